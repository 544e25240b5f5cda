-- Up Migration

-- Separation of duties (issue 11 §3): who asked for each change is recorded beside who approved it, so
-- the audit shows both people. Null on rows written before requesters were recorded.
ALTER TABLE recommendations ADD COLUMN requested_by text;
-- Why a recommendation left PENDING without a human decision (e.g. which newer proposal superseded it).
ALTER TABLE recommendations ADD COLUMN settled_reason text;
ALTER TABLE limit_overrides ADD COLUMN requested_by text;

-- Down Migration

ALTER TABLE limit_overrides DROP COLUMN requested_by;
ALTER TABLE recommendations DROP COLUMN settled_reason;
ALTER TABLE recommendations DROP COLUMN requested_by;
