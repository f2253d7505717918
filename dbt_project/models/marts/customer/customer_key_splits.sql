{# The split log of identity resolution (客户拆分记录), as analysts read it. #}
with

key_splits as (
    select * from {{ ref('int_identity__key_splits') }}
),

final as (
    select * from key_splits
)

select * from final
