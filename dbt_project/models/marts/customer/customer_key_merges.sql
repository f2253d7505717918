{#- The merge log of identity resolution (客户合并记录), as analysts read it. -#}
with

merges as (
    select * from {{ ref('int_identity__key_merges') }}
),

final as (
    select * from merges
)

select * from final
