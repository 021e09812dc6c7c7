DROP TABLE deployment_log;
DROP TABLE deployments;
