//! Sending, editing, deleting, history pages and read receipts.
