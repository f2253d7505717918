-- The source's files of the window as ingestion recorded them (latest delivery of each).
select *
from {{ source('audit', 'ingest_files') }}
where
    source = {{ literal(delivering_source) }}
    and status = 'LOADED'
    and {{ window.sql('business_date') }}
qualify row_number() over (
    partition by business_date, file_name order by ingested_at desc
) = 1
