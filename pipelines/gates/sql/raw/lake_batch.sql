-- The rows loaded for the window, read from the window's lake partitions only (the
-- staging view globs every partition of the source on every query: with years of
-- history that listing, not the rows, was most of a raw gate's time). Same columns as
-- the staging view, which only renames the lineage columns.
select
    * exclude (_source_file, _source_row_number),
    _source_file as source_file,
    _source_row_number as source_row_number
from
    read_parquet(
        {{ files }}, hive_partitioning = true, union_by_name = true
    )
where {{ window.sql('business_date') }}
