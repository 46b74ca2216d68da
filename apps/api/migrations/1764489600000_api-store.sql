-- The API store in PostgreSQL (RECSYS_DATABASE_URL): what replicas share. Applied by
-- node-pg-migrate at server start, under its advisory lock (apps/api/src/services/pg-store.ts).
-- Every table is keyed by the data set (base_crc32: CRC-32 of the loaded data, as the SQLite
-- store's file name is), so one database may serve several data sets.

-- Up Migration

-- Ratings and interactions given through the API, append-only (the latest row of a user and
-- movie wins). txid: the inserting transaction, so that a reader can find rows committed after it
-- last looked even when their ids are lower than ones it has seen (sequences commit out of order).
CREATE TABLE api_ratings (
  id bigserial PRIMARY KEY,
  base_crc32 text NOT NULL,
  user_id integer NOT NULL,
  movie_id integer NOT NULL,
  rating double precision NOT NULL,
  rated_at timestamptz NOT NULL,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX api_ratings_by_data_set ON api_ratings (base_crc32, id);
CREATE INDEX api_ratings_by_txid ON api_ratings (base_crc32, txid);

CREATE TABLE api_interactions (
  id bigserial PRIMARY KEY,
  base_crc32 text NOT NULL,
  user_id integer NOT NULL,
  movie_id integer NOT NULL,
  weight double precision NOT NULL CHECK (weight > 0),
  at timestamptz NOT NULL,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX api_interactions_by_data_set ON api_interactions (base_crc32, id);
CREATE INDEX api_interactions_by_txid ON api_interactions (base_crc32, txid);

-- Training runs: one row each (its state, rewritten at each status change; seq: the order runs
-- were first stored in) and one row per finished epoch.
CREATE TABLE training_runs (
  base_crc32 text NOT NULL,
  id text NOT NULL,
  seq bigserial NOT NULL,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (base_crc32, id)
);

CREATE TABLE training_run_epochs (
  base_crc32 text NOT NULL,
  run_id text NOT NULL,
  epoch integer NOT NULL CHECK (epoch >= 1),
  progress jsonb NOT NULL,
  PRIMARY KEY (base_crc32, run_id, epoch)
);

-- The model manifest: one row per model record (position: its place in the manifest), with its
-- held-out evaluation as columns (from its metrics), and the active model of each role.
CREATE TABLE models (
  base_crc32 text NOT NULL,
  id text NOT NULL,
  position integer NOT NULL,
  kind text NOT NULL,
  role text CHECK (role IN ('rating', 'ranking')),
  params jsonb NOT NULL,
  trained_at timestamptz NOT NULL,
  metrics jsonb NOT NULL,
  held_out_rmse double precision GENERATED ALWAYS AS ((metrics ->> 'heldOutRmse')::double precision) STORED,
  held_out_mae double precision GENERATED ALWAYS AS ((metrics ->> 'heldOutMae')::double precision) STORED,
  held_out_ndcg double precision GENERATED ALWAYS AS ((metrics ->> 'heldOutNdcg')::double precision) STORED,
  fingerprint jsonb NOT NULL,
  ratings_through_id bigint NOT NULL,
  interactions_through_id bigint,
  file text NOT NULL,
  history jsonb NOT NULL,
  training_run_id text,
  PRIMARY KEY (base_crc32, id)
);

CREATE TABLE active_models (
  base_crc32 text NOT NULL,
  role text NOT NULL CHECK (role IN ('rating', 'ranking')),
  model_id text NOT NULL,
  PRIMARY KEY (base_crc32, role),
  FOREIGN KEY (base_crc32, model_id) REFERENCES models (base_crc32, id)
);

-- Down Migration

DROP TABLE active_models;
DROP TABLE models;
DROP TABLE training_run_epochs;
DROP TABLE training_runs;
DROP TABLE api_interactions;
DROP TABLE api_ratings;
