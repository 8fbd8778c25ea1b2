-- Postern queue schema, version 6: the original client's TCP port, as smtpd knows it when it
-- stores the message, for XFORWARD PORT (smtp_send_xforward_command). Nullable: mail queued
-- before this version, and mail that no network client sent, has none; no rewrite of rows.

ALTER TABLE queue_message ADD COLUMN client_port INTEGER;
