//! Wire types of the five client operations. SKELETON: filled in by issue 2.
