use serde::Serialize;

use crate::error::ValidationError;

/// The page size when a list request names none.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page size.
pub const MAX_LIMIT: u32 = 1000;

/// Which slice of a list to return: `limit` in `1..=1000`, `offset` of 0 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    limit: u32,
    offset: u64,
}

impl Page {
    /// Validates `limit` and `offset` as given in a query string; absent means the default.
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Self, ValidationError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| ValidationError::InvalidLimit(raw.to_owned()))?,
        };
        let offset = match offset {
            None => 0,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|o| i64::try_from(*o).is_ok())
                .ok_or_else(|| ValidationError::InvalidOffset(raw.to_owned()))?,
        };
        Ok(Self { limit, offset })
    }

    /// How many items to return at most.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// How many items to skip.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// One page of a list, with the total count of matching items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paged<T> {
    /// The items on this page, newest first.
    pub items: Vec<T>,
    /// How many items match, ignoring limit and offset.
    pub count: u64,
    /// The page size asked for.
    pub limit: u32,
    /// The number of items skipped.
    pub offset: u64,
}

impl<T> Paged<T> {
    /// Maps the items, keeping the paging.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            count: self.count,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(Page::parse(None, None).unwrap(), Page::default());
        let page = Page::parse(Some("1000"), Some("7")).unwrap();
        assert_eq!((page.limit(), page.offset()), (1000, 7));
        assert_eq!(Page::parse(Some("1"), Some("0")).unwrap().limit(), 1);
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for bad in ["0", "1001", "-1", "x", "", "1.5"] {
            assert_eq!(
                Page::parse(Some(bad), None).unwrap_err(),
                ValidationError::InvalidLimit(bad.to_owned())
            );
        }
        for bad in ["-1", "x", "", "99999999999999999999"] {
            assert_eq!(
                Page::parse(None, Some(bad)).unwrap_err().to_string(),
                format!("offset must be an integer of 0 or more, got {bad:?}")
            );
        }
    }
}
