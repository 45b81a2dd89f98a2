//! Pages of long lists: `?page=N&per=M` with bounds, and the links between pages.

use crate::html::esc;
use serde::{Deserialize, Serialize};

/// The most rows one page may ask for.
pub const MAX_PER_PAGE: u64 = 500;
/// Rows per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: u64 = 50;

/// A page request as it arrives in the query string (both optional).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct PageQuery {
    /// 1-based page number.
    pub page: Option<u64>,
    /// Rows per page.
    pub per: Option<u64>,
}

/// A page of a list of `total` rows: which rows, and how to reach the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// 1-based page number (clamped to the last page).
    pub page: u64,
    /// Rows per page (1..=[`MAX_PER_PAGE`]).
    pub per: u64,
    /// Rows in the whole list.
    pub total: u64,
}

impl Paging {
    /// The page `q` asks for in a list of `total` rows, clamped to what exists.
    pub fn new(q: PageQuery, total: u64) -> Paging {
        let per = q.per.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE);
        let pages = total.div_ceil(per).max(1);
        Paging {
            page: q.page.unwrap_or(1).clamp(1, pages),
            per,
            total,
        }
    }

    /// Pages in the list (at least 1).
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per).max(1)
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per
    }

    /// Previous/next links for `path`, with the position.
    pub fn links(&self, path: &str) -> String {
        let link = |p: u64, text: &str| {
            format!(
                "<a href=\"{}?page={p}&amp;per={}\">{text}</a>",
                esc(path),
                self.per
            )
        };
        let prev = if self.page > 1 {
            link(self.page - 1, "← newer")
        } else {
            String::new()
        };
        let next = if self.page < self.pages() {
            link(self.page + 1, "older →")
        } else {
            String::new()
        };
        format!(
            "<div class=\"pager\">{prev}<span>page {} of {} · {} rows</span>{next}</div>",
            self.page,
            self.pages(),
            self.total
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_clamped() {
        let p = Paging::new(
            PageQuery {
                page: Some(9),
                per: Some(10),
            },
            25,
        );
        assert_eq!((p.page, p.pages(), p.offset()), (3, 3, 20));
        let p = Paging::new(
            PageQuery {
                page: Some(0),
                per: Some(0),
            },
            0,
        );
        assert_eq!((p.page, p.per, p.pages(), p.offset()), (1, 1, 1, 0));
        let p = Paging::new(
            PageQuery {
                page: None,
                per: Some(1 << 40),
            },
            10_000,
        );
        assert_eq!(p.per, MAX_PER_PAGE);
        assert!(p.links("/s").contains("page=2&amp;per=500") && !p.links("/s").contains("newer"));
    }
}
