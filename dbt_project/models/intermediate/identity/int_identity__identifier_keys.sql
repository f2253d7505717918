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
    - resolving all history at once gives the same keys as resolving it day by day;
    - re-running a window (after a failed run, or with a late or corrected file) resolves
      again, from all their records, everyone its first attempt resolved (an identifier
      first seen in the window, or last resolved by it): it gives what one run over the
      data as it now is gives. A record the source withdrew no longer joins anyone: the
      people it had joined each get the key of their own first identifier, and the side
      holding the old anchor keeps it. An identifier no record shows any more stays, a
      person of its own. A later run that resolved the same people first (their
      identifiers last resolved after the window) leaves a merge the withdrawn record made
      in place;
    - previous_customer_key is set only where rows outside the window carry the old key
      (the logs say what those rows follow: customer_key_merges, customer_key_splits). The
      window's own rows are built again, so a key only the window's attempts gave is
      replaced, not logged: a re-run after a failed run logs what one clean run logs.
#}
{%- set resolve_other_dates = identity_window_resolved_before() or identity_splits_pending() %}

with

{% if is_incremental() %}
    {# What other dates established: identifiers first seen before or after the window. A
        backfill of earlier dates joins the people later dates found. #}
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
{% endif %}

{%- if resolve_other_dates %}
    {# People resolved again from scratch, from every record that shows one of their
        identifiers (whatever its date) and every link but the ones decided "different":
        - on a re-run of the window (after a failed run, or with a late or corrected
          file), everyone its first attempt resolved: the re-run gives what one run over
          the data as it now is gives, not a merge of what its first attempt joined and
          what it joins now;
        - a customer a reviewer split: a pair decided "different" whose two sides share a
          key. #}
    reopened_anchors as (
        {{ identity_split_anchors() }}
        union
        select anchor from {{ this }}
        where {{ identity_resolved_in_window() }}
    ),

    reopened as (
        select
            identifier,
            identifier_type,
            first_seen_date,
            anchor as reopened_anchor
        from {{ this }}
        where anchor in (select reopened_anchors.anchor from reopened_anchors)
    ),

    reopened_on_other_dates as (
        select
            record_identifiers.record_source,
            record_identifiers.record_id,
            record_identifiers.identifier
        from {{ ref('int_identity__record_identifiers') }} as record_identifiers
        where
            not {{ in_window('record_identifiers.business_date') }}
            and record_identifiers.identifier in (select reopened.identifier from reopened)
    ),

    records_of_other_dates as (
        select distinct
            record_source,
            record_id
        from reopened_on_other_dates
    ),

    {# Reopened identifiers whose key rows outside the window carry: a change of their key
        is logged, so those rows follow it. The window's own rows are built again, so a
        key only this window's attempts gave is replaced, not logged: a re-run after a
        failed run logs what one clean run logs. #}
    reopened_with_history as (
        select identifier from reopened
        where not {{ in_window('first_seen_date') }}
        union
        select identifier from reopened_on_other_dates
    ),
{%- else %}
    reopened as (
        select
            cast(null as varchar) as identifier,
            cast(null as varchar) as identifier_type,
            cast(null as date) as first_seen_date,
            cast(null as varchar) as reopened_anchor
        where false
    ),

    reopened_with_history as (
        select cast(null as varchar) as identifier
        where false
    ),
{%- endif %}

{# The window's records, and every record of other dates that shows an identifier of a
    person resolved again. #}
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

pairs_linked as (
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

{# A link between two identifiers of one known person adds nothing (the person is one
    group already, "known:" below) unless the person is resolved again. A loyal
    customer's profiles are linked many times over: skipping those keeps a nightly's
    links to what its window adds (after 365 days, 2 k of the 82 k touching a day). #}
links as (
    select pairs_linked.*
    from pairs_linked
    left join known as known_a on pairs_linked.node_a = known_a.identifier
    left join known as known_b on pairs_linked.node_b = known_b.identifier
    where not coalesce(
        known_a.anchor = known_b.anchor
        and known_a.anchor not in (select reopened.reopened_anchor from reopened),
        false
    )
),

linked_nodes as (
    select node_a as identifier from links
    union
    select node_b as identifier from links
),

{# The window's identifiers, the known ones a link joins to them, and every identifier
    of a person resolved again, even one no record shows any more (a corrected file
    withdrew it): it is a person of its own then, as it was seen. #}
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
    union all
    select
        identifier,
        identifier_type,
        first_seen_date as business_date
    from reopened
    where identifier not in (select window_identifier_set.identifier from window_identifier_set)
),

window_identifiers as (
    select
        window_nodes.identifier,
        min(window_nodes.identifier_type) as identifier_type,
        least(min(window_nodes.business_date), min(known.first_seen_date)) as first_seen_date,
        min(known.anchor) as known_anchor,
        min(reopened.reopened_anchor) as reopened_anchor
    from window_nodes
    left join known on window_nodes.identifier = known.identifier
    left join reopened on window_nodes.identifier = reopened.identifier
    group by window_nodes.identifier
),

{# Groups whose members are one person: the identifiers a record shows, or a person
    already known (unless resolved again). A record's group is named by its smallest
    identifier (record_node): records sharing it are one person anyway, so their groups
    merge (fewer rows per round; the components are the same, and they converge no
    slower). #}
record_groups as (
    select
        record_node as group_id,
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
    where known_anchor is not null and reopened_anchor is null
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
    where known_anchor is not null and reopened_anchor is null
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
        window_identifiers.reopened_anchor
    from window_identifiers
    inner join components on window_identifiers.identifier = components.node
),

{# Known people this window merged into a better-ranked one: every identifier they had on
    other dates moves along (a known person stays whole, by its "known:" group). A person
    resolved again has every identifier resolved above. #}
retired as (
    select
        known_anchor as retired_anchor,
        min(anchor) as anchor
    from resolved
    where known_anchor is not null and reopened_anchor is null and anchor < known_anchor
    group by known_anchor
),

moved as (
    select
        known.identifier,
        known.identifier_type,
        known.first_seen_date,
        retired.anchor,
        known.anchor as known_anchor,
        cast(null as varchar) as reopened_anchor
    from known
    inner join retired on known.anchor = retired.retired_anchor
    where known.identifier not in (select resolved.identifier from resolved)
),

changed as (
    select * from resolved
    union all
    select * from moved
),

{# The anchor a change is logged against: the known person's, or a reopened person's
    when rows outside the window carry its key. #}
with_previous as (
    select
        changed.*,
        coalesce(
            changed.known_anchor,
            case
                when reopened_with_history.identifier is not null then changed.reopened_anchor
            end
        ) as previous_anchor
    from changed
    left join reopened_with_history on changed.identifier = reopened_with_history.identifier
),

final as (
    select
        identifier,
        identifier_type,
        first_seen_date,
        anchor,
        {{ customer_key_of('anchor') }} as customer_key,
        {{ customer_key_of('previous_anchor') }} as previous_customer_key,
        {{ window_end() }} as resolved_through
    from with_previous
)

select * from final
