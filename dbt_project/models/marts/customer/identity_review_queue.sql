{# Pairs of customer records identity matching could not decide (待人工复核): both sides'
    masked contacts, what agreed, the weight. Only pairs still apart and not yet decided
    (identity/decisions.csv) are listed. #}
with

pairs as (
    select * from {{ ref('int_identity__match_pairs') }}
    where
        decision = 'review'
        and pair_id not in (
            select decisions.pair_id from {{ ref('stg_identity__decisions') }} as decisions
        )
),

profiles as (
    select * from {{ ref('int_identity__profiles') }}
),

identifier_keys as (
    select
        identifier,
        customer_key
    from {{ ref('int_identity__identifier_keys') }}
),

sides as (
    select
        pairs.*,
        a.phone_masked as phone_masked_a,
        a.name_masked as name_masked_a,
        a.id_number_masked as id_number_masked_a,
        a.email_masked as email_masked_a,
        b.phone_masked as phone_masked_b,
        b.name_masked as name_masked_b,
        b.id_number_masked as id_number_masked_b,
        b.email_masked as email_masked_b,
        key_a.customer_key as customer_key_a,
        key_b.customer_key as customer_key_b
    from pairs
    inner join profiles as a on pairs.profile_a = a.profile_id
    inner join profiles as b on pairs.profile_b = b.profile_id
    inner join identifier_keys as key_a on pairs.node_a = key_a.identifier
    inner join identifier_keys as key_b on pairs.node_b = key_b.identifier
),

final as (
    select
        pair_id,
        found_on,
        match_weight,
        review_reason,
        phone_level,
        name_level,
        name_dice,
        id_number_level,
        email_level,
        member_level,
        customer_key_a,
        phone_masked_a,
        name_masked_a,
        id_number_masked_a,
        email_masked_a,
        customer_key_b,
        phone_masked_b,
        name_masked_b,
        id_number_masked_b,
        email_masked_b
    from sides
    where customer_key_a <> customer_key_b
)

select * from final
