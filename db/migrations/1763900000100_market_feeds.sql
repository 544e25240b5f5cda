-- Up Migration

-- Synthetic market feeds (demo and tests). Bars advance with wall-clock time from `epoch`; the
-- regime schedule is append-only so every worker regenerates the same history.
CREATE TABLE market_feeds (
  id         text PRIMARY KEY,
  seed       integer NOT NULL,
  assets     jsonb NOT NULL,
  bar_ms     integer NOT NULL CHECK (bar_ms > 0),
  epoch      timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE market_feed_regimes (
  feed_id      text NOT NULL REFERENCES market_feeds (id),
  from_bar     integer NOT NULL CHECK (from_bar >= 0),
  regime       text NOT NULL CHECK (regime IN ('calm', 'crisis')),
  requested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (feed_id, from_bar)
);

-- Down Migration
DROP TABLE market_feed_regimes;
DROP TABLE market_feeds;
