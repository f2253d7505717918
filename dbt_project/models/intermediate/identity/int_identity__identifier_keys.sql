{#
    Identity resolution (统一客户识别), incremental and stable.

    Records sharing any identifier are one person, transitively. Each identifier ranks by
    when it was first seen, then by its text; a person's anchor is their best-ranked
    identifier and customer_key is a hash of it. A run resolves the identifiers of its
    window together with the people they already belong to (those people's keys act as
    extra links), so:
    - a person keeps their key as new data arrives (their anchor cannot be outranked by a
      later identifier);
    - when a window links two known people, the one whose anchor ranks first survives
      (deterministic), every identifier of the other is re-pointed to it, and
      previous_customer_key records the merge (see customer_key_merges);
    - resolving all history at once gives the same keys as resolving it day by day, and
      re-running a window gives what running it once with the same data gives.
#}

with

window_records as (
    select * from {{ ref('int_identity__record_identifiers') }}
    where {{ in_window('business_date') }}
),

{% if is_incremental() %}
{# What other dates established. Identifiers first seen in the window are resolved
    again with it ("redone"): a re-run (after a failed run, or with a late file) gives
    what one run over the complete window gives, not a merge of people its first attempt
    split. Identifiers first seen after the window stay known, so a backfill of earlier
    dates joins the people later dates found. #}
known as (
    select
        identifier,
        identifier_type,
        first_seen_date,
        anchor,
        customer_key
    from {{ this }}
    where not {{ in_window('first_seen_date') }}
),

redone as (
    select
        identifier,
        anchor
    from {{ this }}
    where {{ in_window('first_seen_date') }}
),
{% else %}
    known as (
        select
            cast(null as varchar) as identifier,
            cast(null as varchar) as identifier_type,
            cast(null as date) as first_seen_date,
            cast(null as varchar) as anchor,
            cast(null as varchar) as customer_key
        where false
    ),

    redone as (
        select
            cast(null as varchar) as identifier,
            cast(null as varchar) as anchor
        where false
    ),
{% endif %}

window_identifiers as (
    select
        window_records.identifier,
        min(window_records.identifier_type) as identifier_type,
        least(min(window_records.business_date), min(known.first_seen_date)) as first_seen_date,
        min(known.anchor) as known_anchor,
        min(known.customer_key) as known_customer_key
    from window_records
    left join known on window_records.identifier = known.identifier
    group by window_records.identifier
),


{# Groups whose members are one person: the identifiers a record shows, or a person
    already known. A record's group is named by its smallest identifier: records sharing
    it are one person anyway, so their groups merge (fewer rows per round; the components
    are the same, and they converge no slower). #}
record_groups as (
    select
        min(identifier) over (partition by record_source, record_id) as group_id,
        identifier as node
    from window_records
),

membership as (  -- noqa: ST03
    select distinct
        group_id,
        node
    from record_groups
    union all
    select
        'known:' || known_anchor as group_id,
        identifier as node
    from window_identifiers
    where known_anchor is not null
),

seeds as (  -- noqa: ST03
    select
        identifier as node,
        cast(first_seen_date as varchar) || '|' || identifier as label
    from window_identifiers
    union all
    select
        identifier as node,
        known_anchor as label
    from window_identifiers
    where known_anchor is not null
),

{# sqlfluff cannot parse DuckDB's recursive CTE with USING KEY, nor see its inputs used. #}
{{ connected_components('membership', 'seeds', var('identity_max_rounds')) }},  -- noqa: PRS

resolved as (
    select
        window_identifiers.identifier,
        window_identifiers.identifier_type,
        window_identifiers.first_seen_date,
        components.label as anchor,
        window_identifiers.known_anchor
    from window_identifiers
    inner join components on window_identifiers.identifier = components.node
),


{# People this window merged into another, or whose anchor it resolved again to another:
    every identifier they had on later dates moves along. #}
anchor_changes as (
    select
        known_anchor as retired_anchor,
        anchor
    from resolved
    where known_anchor is not null and known_anchor <> anchor
    union all
    select
        redone.anchor as retired_anchor,
        resolved.anchor
    from redone
    inner join resolved on redone.identifier = resolved.identifier
    where redone.anchor <> resolved.anchor
),

retired as (
    select
        retired_anchor,
        min(anchor) as anchor
    from anchor_changes
    group by retired_anchor
),

moved as (
    select
        known.identifier,
        known.identifier_type,
        known.first_seen_date,
        retired.anchor,
        known.anchor as known_anchor
    from known
    inner join retired on known.anchor = retired.retired_anchor
    where known.identifier not in (select resolved.identifier from resolved)
),

changed as (
    select * from resolved
    union all
    select * from moved
),

final as (
    select
        changed.identifier,
        changed.identifier_type,
        changed.first_seen_date,
        changed.anchor,
        {{ customer_key_of('changed.anchor') }} as customer_key,
        {{ customer_key_of('changed.known_anchor') }} as previous_customer_key,
        {{ window_end() }} as resolved_through
    from changed
)

select * from final
