{#- The identifiers a run of this window resolved before (a re-run, or a backfill of
    dates already loaded): those first seen in it, and those it was the last to resolve. -#}
{% macro identity_resolved_in_window() -%}
    {{ in_window('first_seen_date') }} or {{ in_window('resolved_through') }}
{%- endmacro %}

{#- Whether identity resolution ran this window before: only then does it resolve again
    the people it resolved, reading the records of other dates that show them, a scan of
    all history a nightly does not need. Unit tests override it. -#}
{% macro identity_window_resolved_before() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(finds_rows("select 1 from " ~ this ~ " where " ~ identity_resolved_in_window())) }}
{%- endmacro %}

{#- The anchors of customers a reviewer split: a pair decided "different" whose two
    sides are one customer now (in identity resolution's state, `this`). -#}
{% macro identity_split_anchors() -%}
    select distinct side_a.anchor
    from {{ ref('int_identity__match_pairs') }} as pairs
    inner join {{ ref('stg_identity__decisions') }} as reviewed
        on pairs.pair_id = reviewed.pair_id
    inner join {{ this }} as side_a on pairs.node_a = side_a.identifier
    inner join {{ this }} as side_b on pairs.node_b = side_b.identifier
    where reviewed.decision = 'different' and side_a.anchor = side_b.anchor
{%- endmacro %}

{#- Whether a customer is to be split: that reads the records of every date that show
    them. -#}
{% macro identity_splits_pending() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(finds_rows(identity_split_anchors())) }}
{%- endmacro %}

{#- The identifiers whose key the run of this window changed, each with whether its
    previous key is retired (a merge: held by no identifier now, and all that left it went
    to one key) or split (still held by the side that kept its anchor, or gone to two or
    more keys: a re-run without the record that had joined them). -#}
{% macro identity_key_changes() -%}
    select
        changes.identifier,
        changes.customer_key,
        changes.previous_customer_key,
        changes.resolved_through,
        changes.previous_customer_key not in (
            select held.customer_key
            from {{ ref('int_identity__identifier_keys') }} as held
        )
        and min(changes.customer_key) over (partition by changes.previous_customer_key)
        = max(changes.customer_key) over (partition by changes.previous_customer_key)
            as previous_key_retired
    from {{ ref('int_identity__identifier_keys') }} as changes
    where
        changes.resolved_through = {{ window_end() }}
        and changes.previous_customer_key is not null
        and changes.previous_customer_key <> changes.customer_key
{%- endmacro %}

{#- Whether this run of the window split a customer (a key still held, or gone to two
    keys): only then are records of other dates resolved again from their identifiers
    (int_identity__record_keys), a scan of every record. -#}
{% macro identity_keys_split_in_window() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(finds_rows(
        "select 1 from (" ~ identity_key_changes() ~ ") as changes where not previous_key_retired"
    )) }}
{%- endmacro %}
