{# One row per token (a token two sources delivered first at once has two equal rows). #}
with

source as (
    select * from {{ lake_source('identity_features', 'id_number') }}
),

final as (
    select distinct
        token,
        corrections,
        birth_token
    from source
)

select * from final
