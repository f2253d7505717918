-- Rows holding a key of the batch that appears more than once in the whole mart: a key
-- is unique across all history, not only among the rows a run changed.
with

batch_keys as (
    select distinct {{ key }}
    from {{ batch }}
),

keyed as (
    select
        {{ key }},
        count(*) over (partition by {{ key }}) as rows_with_key
    from {{ relation }}
    where ({{ key }}) in (select {{ key }} from batch_keys)
)

select {{ key }}
from keyed
where rows_with_key > 1
