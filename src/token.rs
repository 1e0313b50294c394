//! The refresh-token format (R-FAM-1, R-FAM-3, R-FAM-4, R-FAM-6). SKELETON: filled in by issue 3.
