{# Every profile ever seen (a combination of identifiers records show, see
    int_identity__record_profiles) with its first date and its node in the identity graph
    (the least identifier it shows, as its records' group is named). A run adds its
    window's profiles; matching compares the profiles new in a window with all of them. #}
with

{# A profile is the combination of identifiers a record shows; its id is a hash of them,
    computed once per profile rather than once per record. #}
window_profiles as (
    select
        {{ dbt.hash(dbt.concat([
            "coalesce(phone_token, '')", "'|'", "coalesce(name_key, '')", "'|'",
            "coalesce(id_number_token, '')", "'|'", "coalesce(email_key, '')", "'|'",
            "coalesce(member_id, '')"])) }} as profile_id,
        phone_token,
        name_key,
        id_number_token,
        {{ dbt.bool_or('id_number_valid') }} as id_number_valid,
        email_key,
        member_id,
        {{ dbt.bool_or('coalesce(id_node, email_node, member_node) is not null') }}
            as shows_strong_identifier,
        min(record_node) as node,
        min(phone_masked) as phone_masked,
        min(name_masked) as name_masked,
        min(id_number_masked) as id_number_masked,
        min(email_masked) as email_masked,
        min(business_date) as first_seen_date
    from {{ ref('int_identity__record_profiles') }}
    where {{ in_window('business_date') }}
    group by phone_token, name_key, id_number_token, email_key, member_id
),

{# The features a profile is compared by, joined once per profile (not per record). A
    name key is one pinyin, so every name token with that key has the same filter. #}
name_blooms as (
    select
        name_key,
        min(bloom) as name_bloom
    from {{ ref('stg_identity__name_features') }}
    group by name_key
),

id_numbers as (
    select * from {{ ref('stg_identity__id_number_features') }}
),

final as (
    select
        window_profiles.profile_id,
        window_profiles.phone_token,
        window_profiles.name_key,
        name_blooms.name_bloom,
        window_profiles.id_number_token,
        window_profiles.id_number_valid,
        id_numbers.corrections as id_number_corrections,
        id_numbers.birth_token,
        window_profiles.email_key,
        window_profiles.member_id,
        window_profiles.shows_strong_identifier,
        window_profiles.node,
        window_profiles.phone_masked,
        window_profiles.name_masked,
        window_profiles.id_number_masked,
        window_profiles.email_masked,
        {% if is_incremental() -%}
            least(
                window_profiles.first_seen_date,
                coalesce(known.first_seen_date, window_profiles.first_seen_date)
            ) as first_seen_date
        {%- else -%}
            window_profiles.first_seen_date
        {%- endif %}
    from window_profiles
    {% if is_incremental() -%}
        left join {{ this }} as known on window_profiles.profile_id = known.profile_id
    {% endif -%}
    left join name_blooms on window_profiles.name_key = name_blooms.name_key
    left join id_numbers on window_profiles.id_number_token = id_numbers.token
)

select * from final
