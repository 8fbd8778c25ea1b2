-- Postern queue schema, version 5: postsuper -e / -f (Postfix 3.5's forced expiration). A
-- message marked so is returned to its sender at its next delivery round instead of being
-- delivered. Nullable: null means false, and existing rows need no rewrite.

ALTER TABLE queue_message ADD COLUMN forced_expire BOOLEAN;
