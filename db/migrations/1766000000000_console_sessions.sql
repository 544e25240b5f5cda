-- Up Migration

-- The console's signed-in sessions (issue 11 §3), in Postgres so they survive a console restart and are
-- shared by every console process behind one address. Only a hash of the session id is stored: the
-- table is not a list of live cookies. The person's roles are not copied here: each request reads them
-- from the console's users configuration, so taking a role away takes effect at once.
CREATE TABLE console_sessions (
  id_hash    text PRIMARY KEY,
  user_name  text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Wrong passwords of the last 15 minutes per name: the login throttle holds across every console
-- process (five tries in all, not five per process). Older rows are deleted as new ones arrive.
CREATE TABLE console_login_failures (
  user_name text NOT NULL,
  failed_at timestamptz NOT NULL
);
CREATE INDEX console_login_failures_by_name ON console_login_failures (user_name, failed_at);
CREATE INDEX console_login_failures_by_time ON console_login_failures (failed_at);

-- One secret shared by every console process: it signs the cookies and keys the CSRF tokens, so a
-- cookie or token one process handed out is good at another, and after a restart.
CREATE TABLE console_secrets (
  name       text PRIMARY KEY,
  secret     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE console_secrets;
DROP TABLE console_login_failures;
DROP TABLE console_sessions;
