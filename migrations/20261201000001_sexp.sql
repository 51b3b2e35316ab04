-- sexp on the wire (docs/sexp.md): which servers take application/sexp,
-- learnt from their actors' documents, and the markup tree of posts
-- written in sexp (its canonical text; `content` keeps the rendered HTML).
-- Same dialect rules as the foundations migration.

ALTER TABLE hosts ADD COLUMN sexp BIGINT NOT NULL DEFAULT 0 CHECK (sexp IN (0, 1));
ALTER TABLE objects ADD COLUMN source_sexp TEXT;
