DROP TABLE release_attributes;
DROP TABLE releases;
DROP TABLE templates;
DROP TABLE services;
