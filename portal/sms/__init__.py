"""Reports by text message: a resident texts a portal's number and a short conversation files
the report; status changes are texted back. See `intake` for the path of one message."""
