"""Jobs built on the extractor: scheduled feed ingestion into SQLite (`pipelines.ingest`) and its offline demo."""
