{# Pairs of customer records identity matching could not decide (待人工复核): both sides'
    masked contacts, what agreed, the weight. Only pairs still apart and not yet decided
    (identity/decisions.csv) are listed. #}
with

identifier_keys as (
    select
        identifier,
        customer_key
    from {{ ref('int_identity__identifier_keys') }}
),

{# Which review pairs are still two customers first (about one in nine after a year:
    most sides were joined since by what their other records show), then only those
    pairs' contacts. The pairs are read twice, not through one CTE: a CTE read twice is
    materialized whole, every column of every pair. #}
apart as (
    select
        pairs.pair_id,
        key_a.customer_key as customer_key_a,
        key_b.customer_key as customer_key_b
    from {{ ref('int_identity__match_pairs') }} as pairs
    inner join identifier_keys as key_a on pairs.node_a = key_a.identifier
    inner join identifier_keys as key_b on pairs.node_b = key_b.identifier
    where
        pairs.decision = 'review'
        and key_a.customer_key <> key_b.customer_key
        and pairs.pair_id not in (
            select decisions.pair_id from {{ ref('stg_identity__decisions') }} as decisions
        )
),

final as (
    select
        pairs.pair_id,
        pairs.found_on,
        pairs.match_weight,
        pairs.review_reason,
        pairs.phone_level,
        pairs.name_level,
        pairs.name_dice,
        pairs.id_number_level,
        pairs.email_level,
        pairs.member_level,
        apart.customer_key_a,
        a.phone_masked as phone_masked_a,
        a.name_masked as name_masked_a,
        a.id_number_masked as id_number_masked_a,
        a.email_masked as email_masked_a,
        apart.customer_key_b,
        b.phone_masked as phone_masked_b,
        b.name_masked as name_masked_b,
        b.id_number_masked as id_number_masked_b,
        b.email_masked as email_masked_b
    from apart
    inner join {{ ref('int_identity__match_pairs') }} as pairs on apart.pair_id = pairs.pair_id
    inner join {{ ref('int_identity__profiles') }} as a on pairs.profile_a = a.profile_id
    inner join {{ ref('int_identity__profiles') }} as b on pairs.profile_b = b.profile_id
)

select * from final
