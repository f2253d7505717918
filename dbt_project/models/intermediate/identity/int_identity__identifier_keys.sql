{#
    Identity resolution (统一客户识别), incremental and stable.

    Records sharing any identifier are one person, transitively, and so are the two sides
    of a pair matching linked (int_identity__match_pairs). Each identifier ranks by
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
{%- set resolve_other_dates = identity_window_resolved_before() or identity_splits_pending() %}

with

{% if is_incremental() %}
    {# What other dates established. Identifiers first seen in the window are resolved
        again with it ("redone"): a re-run (after a failed run, or with a late file) gives
        what one run over the complete window gives, not a merge of people its first
        attempt split. Identifiers first seen after the window stay known, so a backfill
        of earlier dates joins the people later dates found. #}
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

    {# Customers a reviewer split: a pair decided "different" whose two sides share a
        key. Every identifier they hold is resolved again, from every record that shows
        one (whatever its date) and every link but the ones decided "different". #}
    split_anchors as (
        {{ identity_split_anchors() }}
    ),

    split_identifiers as (
        select
            identifier,
            anchor as split_anchor
        from {{ this }}
        where anchor in (select split_anchors.anchor from split_anchors)
    ),

    {%- if resolve_other_dates %}
    records_of_other_dates as (
        select distinct
            record_identifiers.record_source,
            record_identifiers.record_id
        from {{ ref('int_identity__record_identifiers') }} as record_identifiers
        where
            not {{ in_window('record_identifiers.business_date') }}
            and record_identifiers.identifier in (
                select redone.identifier from redone
                union all
                select split_identifiers.identifier from split_identifiers
            )
    ),
    {%- endif %}
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

    split_identifiers as (
        select
            cast(null as varchar) as identifier,
            cast(null as varchar) as split_anchor
        where false
    ),
{% endif %}

{# The window's records and every record of other dates that shows an identifier first
    seen in the window and resolved before (a re-run: one run over all dates would see
    what those records join it to) or an identifier of a customer being split. #}
window_records as (
    select * from {{ ref('int_identity__record_identifiers') }}
    where {{ in_window('business_date') }}
    {%- if resolve_other_dates %}
        union all
        select record_identifiers.*
        from {{ ref('int_identity__record_identifiers') }} as record_identifiers
        inner join records_of_other_dates
            on
                record_identifiers.record_source = records_of_other_dates.record_source
                and record_identifiers.record_id = records_of_other_dates.record_id
    {%- endif %}
),

{# Pairs matching (int_identity__match_pairs) linked that touch the window's identifiers
    (whenever found: a backfill of earlier dates finds pairs whose later side was run
    first) and no reviewer decided are two people, and every pair a reviewer decided is
    one person: each joins its two profiles' nodes. #}
window_identifier_set as (
    select distinct identifier from window_records
),

links as (
    select
        pairs.pair_id,
        pairs.node_a,
        pairs.node_b
    from {{ ref('int_identity__match_pairs') }} as pairs
    left join {{ ref('stg_identity__decisions') }} as reviewed
        on pairs.pair_id = reviewed.pair_id
    where
        pairs.decision = 'link'
        and coalesce(reviewed.decision, 'same') <> 'different'
        and (
            pairs.node_a in (select window_identifier_set.identifier from window_identifier_set)
            or pairs.node_b in (
                select window_identifier_set.identifier from window_identifier_set
            )
        )
        or reviewed.decision = 'same'
),

linked_nodes as (
    select node_a as identifier from links
    union
    select node_b as identifier from links
),

{# The window's identifiers, and the earlier ones a link joins to them. #}
window_nodes as (
    select
        identifier,
        identifier_type,
        business_date
    from window_records
    union all
    select
        known.identifier,
        known.identifier_type,
        known.first_seen_date as business_date
    from known
    inner join linked_nodes on known.identifier = linked_nodes.identifier
),

window_identifiers as (
    select
        window_nodes.identifier,
        min(window_nodes.identifier_type) as identifier_type,
        least(min(window_nodes.business_date), min(known.first_seen_date)) as first_seen_date,
        min(known.anchor) as known_anchor,
        min(split_identifiers.split_anchor) as split_anchor
    from window_nodes
    left join known on window_nodes.identifier = known.identifier
    left join split_identifiers on window_nodes.identifier = split_identifiers.identifier
    group by window_nodes.identifier
),


{# Groups whose members are one person: the identifiers a record shows, or a person
    already known (unless being split). A record's group is named by its smallest identifier: records sharing
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
        'link:' || pair_id as group_id,
        node_a as node
    from links
    union all
    select
        'link:' || pair_id as group_id,
        node_b as node
    from links
    union all
    select
        'known:' || known_anchor as group_id,
        identifier as node
    from window_identifiers
    where known_anchor is not null and split_anchor is null
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
    where known_anchor is not null and split_anchor is null
),

{# sqlfluff cannot parse DuckDB's recursive CTE with USING KEY, nor see its inputs used. #}
{{ connected_components('membership', 'seeds', var('identity_max_rounds')) }},  -- noqa: PRS

resolved as (
    select
        window_identifiers.identifier,
        window_identifiers.identifier_type,
        window_identifiers.first_seen_date,
        components.label as anchor,
        window_identifiers.known_anchor,
        window_identifiers.split_anchor
    from window_identifiers
    inner join components on window_identifiers.identifier = components.node
),


{# People this window merged into another, or whose identifiers it resolved again into a
    better-ranked person: every identifier they had on other dates moves along. When an
    identifier is resolved into a worse-ranked person (a split; or a re-run without what
    joined it to its old one), the old person keeps their key: their other identifiers
    are joined by records of other dates, and those are resolved here too. #}
anchor_changes as (
    select
        known_anchor as retired_anchor,
        anchor
    from resolved
    where known_anchor is not null and anchor < known_anchor
    union all
    select
        redone.anchor as retired_anchor,
        resolved.anchor
    from redone
    inner join resolved on redone.identifier = resolved.identifier
    where resolved.anchor < redone.anchor
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
        known.anchor as known_anchor,
        cast(null as varchar) as split_anchor
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
        {{ customer_key_of('coalesce(changed.known_anchor, changed.split_anchor)') }}
            as previous_customer_key,
        {{ window_end() }} as resolved_through
    from changed
)

select * from final
