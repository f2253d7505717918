{# The merge log of identity resolution (客户合并记录), as analysts read it. #}
with

key_merges as (
    select * from {{ ref('int_identity__key_merges') }}
),

final as (
    select * from key_merges
)

select * from final
