{# One row per token (a token two sources delivered first at once has two equal rows). #}
with

source as (
    select * from {{ lake_source('identity_features', 'phone') }}
),

final as (
    select distinct
        token,
        variants
    from source
)

select * from final
