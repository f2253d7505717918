-- A personal column holds its keyed token only (64 hex digits), never a value.
select
    source_file,
    source_row_number
from {{ batch }}
where
    {{ token_column }} is not null
    and not regexp_full_match({{ token_column }}, {{ literal('[0-9a-f]{64}') }})
