{# Every customer record with what identity matching compares: its identifier tokens, their
    keys for comparison (models/staging/identity), and the identifiers it is a node of in the
    identity graph. The combination of identifiers it shows is its profile
    (int_identity__profiles): many records of a person show the same one, so matching
    compares profiles, not records.

    The graph's identifiers: a valid ID number, an e-mail (dots in the local part aside), a
    brand member number; a phone only together with the name beside it ("pn:"), because
    family members share phones (a child's record shows the mother's) and a shared phone
    is not one person. A record with a phone, no name and no other identifier shows the
    phone alone ("phone:"); matching decides whom it belongs to. #}
with

records as (
    select * from {{ ref('int_identity__records') }}
),

names as (
    select * from {{ ref('stg_identity__name_features') }}
),

emails as (
    select * from {{ ref('stg_identity__email_features') }}
),

compared as (
    select
        records.record_source,
        records.record_id,
        records.business_date,
        records.phone_token,
        coalesce(names.name_key, records.name_token) as name_key,
        records.id_number_token,
        coalesce(records.id_number_valid, true) as id_number_valid,
        coalesce(emails.match_token, records.email_token) as email_key,
        records.member_id,
        records.phone_masked,
        records.name_masked,
        records.id_number_masked,
        records.email_masked
    from records
    left join names on records.name_token = names.token
    left join emails on records.email_token = emails.token
),

strong_nodes as (
    select
        *,
        case when id_number_valid then 'id:' || id_number_token end as id_node,
        'email:' || email_key as email_node,
        'member:' || member_id as member_node
    from compared
),

nodes as (
    select
        *,
        case
            when name_key is not null then 'pn:' || phone_token || '|' || name_key
            when
                id_node is null and email_node is null and member_node is null
                then 'phone:' || phone_token
        end as phone_node
    from strong_nodes
),

{# The record's least identifier: it names the record's group in identity resolution
    (int_identity__identifier_keys) and its profile's node. #}
final as (
    select
        *,
        nullif(
            least(
                coalesce(id_node, '~'), coalesce(email_node, '~'),
                coalesce(member_node, '~'), coalesce(phone_node, '~')
            ),
            '~'
        ) as record_node
    from nodes
)

select * from final
