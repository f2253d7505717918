{#
    Identity matching (客户匹配): pairs of profiles that may be one person although no
    identifier of the graph joins them, scored the Fellegi–Sunter way.

    Blocking: a profile first seen in the window is compared only with the profiles that
    share a blocking key with it (history and window alike), so the work grows with the
    window: the same phone under another name (or none), a phone one typo away (a shared
    variant), an ID number whose check digit fails and one of whose corrections is the
    other's (either way round). A pair becomes possible when its later profile first
    appears, so comparing new profiles finds every pair once.

    Scoring: each comparison reaches a level (phone: exact, one_edit, different; name:
    same_key, close, similar, different by the Dice coefficient of the keyed Bloom
    filters; ID number: corrected, same_birth, different; a side that shows nothing adds
    nothing) and the pair's weight is the sum of log2(m/u) of those levels
    (seeds/identity_match_weights.csv). The decision: link at or above the var
    identity_link_weight, review from identity_review_weight, else none (not kept). A
    reviewer's verdict (identity/decisions.csv, pipelines/identity_decisions.py) comes
    first: same links the pair, different keeps it apart.

    One exception: when the phone is all that agrees (one side shows no name, and no ID
    number compares), the pair waits for review instead of linking when
    - two people have shown the phone: two names that are not one mistyped (nor shown
      beside one identifier of the graph, as one person's typos are), two valid ID
      numbers, or two member numbers of one brand;
    - both sides show identifiers of their own (ID number, e-mail, member number); or
    - the identifiers of one side were shown with names, none of them the other side's.
    Family members share phones (家庭共用手机: a child's record shows the mother's), so a
    shared phone alone is no evidence that two people are one.
#}
{%- set close_dice = 0.8 -%}
{%- set similar_dice = 0.6 -%}
{#- Every profile, read where needed rather than through a CTE: a CTE read many times is
    materialized whole (all history, Bloom filters included), which a nightly's memory
    limit spills to disk; each read here takes only the columns it uses. -#}
{%- set profiles = ref('int_identity__profiles') -%}

with

new_profiles as (
    select * from {{ profiles }}
    where {{ in_window('first_seen_date') }}
),

{# Read once (the lake's files of every phone ever seen), used three times. #}
phone_features as (
    select
        token,
        variants
    from {{ ref('stg_identity__phone_features') }}
),

{# Every profile that shows a new profile's phone (those the shared-phone rules look at),
    and the new phones' variants. A run of a few days finds a few thousand: read once from
    all history, kept. A full build finds most profiles and every phone: read where used,
    each read taking only its columns (a CTE read several times would keep every column of
    every profile). #}
{%- if is_incremental() %}
    new_phones as (
        select distinct phone_token
        from new_profiles
        where phone_token is not null
    ),

    phone_profiles as (
        select
            profile_id,
            phone_token,
            name_key,
            name_bloom,
            id_number_token,
            id_number_valid,
            email_key,
            member_id
        from {{ profiles }}
        where phone_token in (select new_phones.phone_token from new_phones)
    ),

    new_phone_variants as (
        select
            token,
            {{ explode_list('variants') }} as variant
        from phone_features
        where token in (select new_phones.phone_token from new_phones)
    ),
    {%- set phone_profiles, new_phone_variants = 'phone_profiles', 'new_phone_variants' %}
{%- else %}
    {%- set phone_profiles = '(select * from ' ~ profiles
        ~ ' where phone_token in (select new_profiles.phone_token from new_profiles))' %}
    {%- set new_phone_variants = 'phone_variants' %}
{%- endif %}

phone_variants as (
    select
        token,
        {{ explode_list('variants') }} as variant
    from phone_features
),

id_corrections as (
    select
        profile_id,
        {{ explode_list('id_number_corrections') }} as correction
    from {{ profiles }}
    where not id_number_valid
),

weights as (
    select
        comparison,
        level,
        ln(m_probability / u_probability) / ln(2) as weight
    from {{ ref('identity_match_weights') }}
),

candidates as (
    select
        new_profiles.profile_id as new_profile,
        other.profile_id as other_profile
    from new_profiles
    inner join {{ phone_profiles }} as other
        on
            new_profiles.phone_token = other.phone_token
            -- the same phone and name are one node already
            and not coalesce(new_profiles.name_key = other.name_key, false)
    union
    select
        new_profiles.profile_id as new_profile,
        other.profile_id as other_profile
    from new_profiles
    inner join {{ new_phone_variants }} as new_variants
        on new_profiles.phone_token = new_variants.token
    inner join phone_variants as other_variants
        on
            new_variants.variant = other_variants.variant
            and new_variants.token <> other_variants.token
    inner join {{ profiles }} as other on other_variants.token = other.phone_token
    union
    select
        new_profiles.profile_id as new_profile,
        id_corrections.profile_id as other_profile
    from new_profiles
    inner join id_corrections
        on substr(new_profiles.id_number_token, 1, 16) = id_corrections.correction
    union
    select
        id_corrections.profile_id as new_profile,
        other.profile_id as other_profile
    from id_corrections
    inner join new_profiles on id_corrections.profile_id = new_profiles.profile_id
    inner join {{ profiles }} as other
        on substr(other.id_number_token, 1, 16) = id_corrections.correction
),

distinct_pairs as (
    select distinct
        least(new_profile, other_profile) as profile_a,
        greatest(new_profile, other_profile) as profile_b
    from candidates
    where new_profile <> other_profile
),

{# Phones shown by two people: with names that are not one name written two ways (nor
    tied by an identifier of the graph both were shown with: one person's own typos), with
    two valid ID numbers, or with two member numbers of one brand. #}
phone_names as (
    select distinct
        phone_token,
        name_key,
        name_bloom
    from {{ phone_profiles }}
    where name_key is not null
),

phone_named_profiles as (
    select
        phone_token,
        name_key,
        case when id_number_valid then id_number_token end as id_number_token,
        email_key,
        member_id
    from {{ phone_profiles }}
    where name_key is not null
),

phone_name_identifiers as (
    select
        phone_token,
        name_key,
        'id:' || id_number_token as identifier
    from phone_named_profiles
    where id_number_token is not null
    union
    select
        phone_token,
        name_key,
        'email:' || email_key as identifier
    from phone_named_profiles
    where email_key is not null
    union
    select
        phone_token,
        name_key,
        'member:' || member_id as identifier
    from phone_named_profiles
    where member_id is not null
),

names_of_one_person as (
    select distinct
        first_name.phone_token,
        first_name.name_key as first_name_key,
        second_name.name_key as second_name_key
    from phone_name_identifiers as first_name
    inner join phone_name_identifiers as second_name
        on
            first_name.phone_token = second_name.phone_token
            and first_name.identifier = second_name.identifier
            and first_name.name_key < second_name.name_key
),

phone_identities as (
    select
        phone_token,
        count(distinct case when id_number_valid then id_number_token end) as id_numbers,
        count(distinct member_id) as member_numbers,
        count(distinct {{ member_brand('member_id') }}) as member_brands
    from {{ phone_profiles }}
    group by phone_token
),

shared_phones as (
    select first_name.phone_token
    from phone_names as first_name
    inner join phone_names as second_name
        on
            first_name.phone_token = second_name.phone_token
            and first_name.name_key < second_name.name_key
    left join names_of_one_person as one_person
        on
            first_name.phone_token = one_person.phone_token
            and first_name.name_key = one_person.first_name_key
            and second_name.name_key = one_person.second_name_key
    where
        {{ dice('first_name.name_bloom', 'second_name.name_bloom') }} < {{ similar_dice }}
        and one_person.phone_token is null
    union
    select phone_token
    from phone_identities
    where id_numbers > 1 or member_numbers > member_brands
),

{# The pairs' profiles: likewise read once and kept on a run of a few days. #}
{%- if is_incremental() %}
    pair_profiles as (
        select * from {{ profiles }}
        where
            profile_id in (
                select distinct_pairs.profile_a from distinct_pairs
                union
                select distinct_pairs.profile_b from distinct_pairs
            )
    ),
    {%- set pair_profiles = 'pair_profiles' %}
{%- else %}
    {%- set pair_profiles = profiles %}
{%- endif %}

{# Profiles that share an identifier of the graph are one person already: not compared. #}
compared as (
    select
        distinct_pairs.profile_a,
        distinct_pairs.profile_b,
        a.node as node_a,
        b.node as node_b,
        greatest(a.first_seen_date, b.first_seen_date) as found_on,
        case
            when a.phone_token = b.phone_token then 'exact'
            when {{ list_overlap('a_phone.variants', 'b_phone.variants') }} > 0 then 'one_edit'
            when a.phone_token is not null and b.phone_token is not null then 'different'
        end as phone_level,
        case
            when a.name_key = b.name_key then 1.0
            when a.name_bloom is not null and b.name_bloom is not null
                then {{ dice('a.name_bloom', 'b.name_bloom') }}
        end as name_dice,
        a.name_key = b.name_key as same_name_key,
        case
            when a.id_number_token = b.id_number_token then 'exact'
            when
                {{ list_has('a.id_number_corrections', 'substr(b.id_number_token, 1, 16)') }}
                or {{ list_has('b.id_number_corrections', 'substr(a.id_number_token, 1, 16)') }}
                then 'corrected'
            when a.birth_token = b.birth_token then 'same_birth'
            when a.id_number_token is not null and b.id_number_token is not null then 'different'
        end as id_number_level,
        case when a.email_key <> b.email_key then 'different' end as email_level,
        case
            when
                {{ member_brand('a.member_id') }} = {{ member_brand('b.member_id') }}
                and a.member_id <> b.member_id
                then 'different'
        end as member_level,
        shared_phones.phone_token is not null as phone_shared_by_names,
        a.shows_strong_identifier and b.shows_strong_identifier as both_identified
    from distinct_pairs
    inner join {{ pair_profiles }} as a on distinct_pairs.profile_a = a.profile_id
    inner join {{ pair_profiles }} as b on distinct_pairs.profile_b = b.profile_id
    left join phone_features as a_phone on a.phone_token = a_phone.token
    left join phone_features as b_phone on b.phone_token = b_phone.token
    left join shared_phones on a.phone_token = shared_phones.phone_token
    where not coalesce(
        a.member_id = b.member_id
        or a.email_key = b.email_key
        or a.id_number_valid and b.id_number_valid and a.id_number_token = b.id_number_token,
        false
    )
),

leveled as (
    select
        *,
        case
            when same_name_key then 'same_key'
            when name_dice >= {{ close_dice }} then 'close'
            when name_dice >= {{ similar_dice }} then 'similar'
            when name_dice is not null then 'different'
        end as name_level
    from compared
),

{# A pair whose phone alone agrees, one side named and the other not: the identifiers of
    the unnamed side (ID number, e-mail, member number) were shown with names elsewhere.
    When none of those is the named side's name (nor close to it), the two are not one
    person by what is known: a mother's member number beside her phone, and her child's
    name beside the same phone. #}
phone_alone_pairs as (
    select
        profile_a,
        profile_b,
        profile_a as named_profile,
        profile_b as unnamed_profile
    from leveled
    where phone_level = 'exact' and name_level is null and id_number_level is null
    union all
    select
        profile_a,
        profile_b,
        profile_b as named_profile,
        profile_a as unnamed_profile
    from leveled
    where phone_level = 'exact' and name_level is null and id_number_level is null
),

unnamed_identifiers as (
    select
        unnamed.profile_id,
        case when unnamed.id_number_valid then unnamed.id_number_token end as id_number_token,
        unnamed.email_key,
        unnamed.member_id
    from {{ pair_profiles }} as unnamed
    where unnamed.profile_id in (select phone_alone_pairs.unnamed_profile from phone_alone_pairs)
),

names_beside_identifiers as (
    select
        unnamed_identifiers.profile_id,
        other.name_key,
        other.name_bloom
    from unnamed_identifiers
    inner join {{ profiles }} as other
        on
            unnamed_identifiers.id_number_token = other.id_number_token
            and other.id_number_valid
    where other.name_key is not null
    union
    select
        unnamed_identifiers.profile_id,
        other.name_key,
        other.name_bloom
    from unnamed_identifiers
    inner join {{ profiles }} as other on unnamed_identifiers.email_key = other.email_key
    where other.name_key is not null
    union
    select
        unnamed_identifiers.profile_id,
        other.name_key,
        other.name_bloom
    from unnamed_identifiers
    inner join {{ profiles }} as other on unnamed_identifiers.member_id = other.member_id
    where other.name_key is not null
),

shown_with_another_name as (
    select
        phone_alone_pairs.profile_a,
        phone_alone_pairs.profile_b
    from phone_alone_pairs
    inner join {{ pair_profiles }} as named on phone_alone_pairs.named_profile = named.profile_id
    inner join names_beside_identifiers as shown
        on phone_alone_pairs.unnamed_profile = shown.profile_id
    where named.name_key is not null
    group by
        phone_alone_pairs.profile_a,
        phone_alone_pairs.profile_b,
        phone_alone_pairs.named_profile
    -- the Dice coefficient only where the name keys differ: it is the costly part
    having not {{ dbt.bool_or(
        'case when shown.name_key = named.name_key then true else '
        ~ dice('shown.name_bloom', 'named.name_bloom') ~ ' >= ' ~ similar_dice ~ ' end') }}
),

scored as (
    select
        leveled.*,
        coalesce(phone_weight.weight, 0)
        + coalesce(name_weight.weight, 0)
        + coalesce(id_number_weight.weight, 0)
        + coalesce(email_weight.weight, 0)
        + coalesce(member_weight.weight, 0) as match_weight,
        leveled.phone_level = 'exact' and leveled.name_level is null
        and leveled.id_number_level is null as phone_alone,
        another_name.profile_a is not null as shown_with_another_name
    from leveled
    left join shown_with_another_name as another_name
        on
            leveled.profile_a = another_name.profile_a
            and leveled.profile_b = another_name.profile_b
    left join weights as phone_weight
        on phone_weight.comparison = 'phone' and leveled.phone_level = phone_weight.level
    left join weights as name_weight
        on name_weight.comparison = 'name' and leveled.name_level = name_weight.level
    left join weights as id_number_weight
        on
            id_number_weight.comparison = 'id_number'
            and leveled.id_number_level = id_number_weight.level
    left join weights as email_weight
        on email_weight.comparison = 'email' and leveled.email_level = email_weight.level
    left join weights as member_weight
        on member_weight.comparison = 'member' and leveled.member_level = member_weight.level
),

identified as (
    select
        'P' || upper(substr({{ dbt.hash(dbt.concat(['profile_a', "'|'", 'profile_b'])) }}, 1, 16))
            as pair_id,
        *
    from scored
),

decided as (
    select
        identified.*,
        reviewed.decision as reviewed_decision
    from identified
    left join {{ ref('stg_identity__decisions') }} as reviewed
        on identified.pair_id = reviewed.pair_id
),

final as (
    select
        pair_id,
        profile_a,
        profile_b,
        node_a,
        node_b,
        phone_level,
        name_level,
        id_number_level,
        email_level,
        member_level,
        cast(name_dice as decimal(4, 3)) as name_dice,
        cast(match_weight as decimal(6, 2)) as match_weight,
        case
            when reviewed_decision = 'same' then 'link'
            when reviewed_decision = 'different' then 'apart'
            when match_weight < {{ var('identity_link_weight') }} then 'review'
            when
                phone_alone
                and (phone_shared_by_names or both_identified or shown_with_another_name)
                then 'review'
            else 'link'
        end as decision,
        reviewed_decision as reviewed_as,
        case
            when reviewed_decision is not null then null
            when match_weight < {{ var('identity_link_weight') }}
                then 'weight between the review and link thresholds'
            when phone_alone and phone_shared_by_names
                then 'only the phone agrees, and two people have shown it'
            when phone_alone and both_identified
                then 'only the phone agrees, and both show identifiers of their own'
            when phone_alone and shown_with_another_name
                then
                    'only the phone agrees, and the identifiers of one were shown with another name'
        end as review_reason,
        found_on
    from decided
    where match_weight >= {{ var('identity_review_weight') }} or reviewed_decision is not null
)

select * from final
