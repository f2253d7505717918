{#
    Reconciliation breaks drilled to the document (对账差异明细): one row per order (or
    posting document) and measure that does not tie out.
    - MISSING_IN_LEDGER: an order with no postings at all;
    - MISSING_IN_OPERATIONS: postings naming a document operations do not have;
    - WRONG_PERIOD: postings in another month than the order's business date
      (ledger_other_period_amount; ledger_amount is what was posted in the right month);
    - AMOUNT_MISMATCH: both sides in the same period, amounts differ.
    Incremental by document: a run recomputes every document it touches (ordered or posted
    in its window) from that document's whole history, so a posting that arrives months
    later updates the order's break. Documents that tie out leave a marker row (no
    break_type) that replaces their old breaks and is then removed.
#}
{{ config(post_hook="delete from {{ this }} where break_type is null") }}
with

{% if is_incremental() %}
touched as (
    select source_doc_id from {{ ref('int_finance__operational_measures') }}
    where {{ in_window('business_date') }}
    union
    select source_doc_id from {{ ref('int_finance__ledger_measures') }}
    where {{ in_window('posting_date') }}
),
{% else %}
    touched as (
        select source_doc_id from {{ ref('int_finance__operational_measures') }}
        union
        select source_doc_id from {{ ref('int_finance__ledger_measures') }}
    ),
{% endif %}

{# a full build touches every document: no need to look them up #}

operations as (
    select * from {{ ref('int_finance__operational_measures') }}
    {% if is_incremental() %}where source_doc_id in (select source_doc_id from touched){% endif %}
),

ledger as (
    select * from {{ ref('int_finance__ledger_measures') }}
    {% if is_incremental() %}where source_doc_id in (select source_doc_id from touched){% endif %}
),

posted_documents as (
    select
        source_doc_id,
        min(posting_date) as first_posting_date,
        min(brand_code) as brand_code
    from ledger
    group by source_doc_id
),

ledger_by_period as (
    select
        ledger.source_doc_id,
        ledger.measure,
        sum(ledger.amount) as ledger_total,
        sum(case
            when
                {{ dbt.date_trunc('month', 'ledger.posting_date') }}
                = {{ dbt.date_trunc('month', 'operations.business_date') }}
                then ledger.amount
            else 0
        end) as ledger_same_period
    from ledger
    inner join operations
        on
            ledger.source_doc_id = operations.source_doc_id
            and ledger.measure = operations.measure
    group by ledger.source_doc_id, ledger.measure
),

missing_in_ledger as (
    select
        operations.source_doc_id,
        operations.business_date,
        operations.brand_code,
        'MISSING_IN_LEDGER' as break_type,
        operations.measure,
        operations.amount as operational_amount,
        cast(0 as decimal(18, 2)) as ledger_amount,
        cast(0 as decimal(18, 2)) as ledger_other_period_amount
    from operations
    left join posted_documents on operations.source_doc_id = posted_documents.source_doc_id
    where posted_documents.source_doc_id is null and operations.amount <> 0
),

missing_in_operations as (
    select
        ledger.source_doc_id,
        min(ledger.posting_date) as business_date,
        min(ledger.brand_code) as brand_code,
        'MISSING_IN_OPERATIONS' as break_type,
        ledger.measure,
        cast(0 as decimal(18, 2)) as operational_amount,
        sum(ledger.amount) as ledger_amount,
        cast(0 as decimal(18, 2)) as ledger_other_period_amount
    from ledger
    where ledger.source_doc_id not in (select operations.source_doc_id from operations)
    group by ledger.source_doc_id, ledger.measure
    having sum(ledger.amount) <> 0
),

matched_documents as (
    select
        operations.source_doc_id,
        operations.business_date,
        operations.brand_code,
        operations.measure,
        operations.amount as operational_amount,
        coalesce(ledger_by_period.ledger_total, 0) as ledger_total,
        coalesce(ledger_by_period.ledger_same_period, 0) as ledger_same_period
    from operations
    inner join posted_documents on operations.source_doc_id = posted_documents.source_doc_id
    left join ledger_by_period
        on
            operations.source_doc_id = ledger_by_period.source_doc_id
            and operations.measure = ledger_by_period.measure
),

wrong_period as (
    select
        source_doc_id,
        business_date,
        brand_code,
        'WRONG_PERIOD' as break_type,
        measure,
        operational_amount,
        ledger_same_period as ledger_amount,
        cast(ledger_total - ledger_same_period as decimal(18, 2)) as ledger_other_period_amount
    from matched_documents
    where ledger_total <> ledger_same_period
),

amount_mismatch as (
    select
        source_doc_id,
        business_date,
        brand_code,
        'AMOUNT_MISMATCH' as break_type,
        measure,
        operational_amount,
        ledger_total as ledger_amount,
        cast(0 as decimal(18, 2)) as ledger_other_period_amount
    from matched_documents
    where ledger_total = ledger_same_period and operational_amount <> ledger_total
),


{# a full rebuild starts empty: markers are only needed to replace earlier rows #}
tied_out as (
    select
        touched.source_doc_id,
        cast(null as date) as business_date,
        cast(null as varchar) as brand_code,
        cast(null as varchar) as break_type,
        cast(null as varchar) as measure,
        cast(0 as decimal(18, 2)) as operational_amount,
        cast(0 as decimal(18, 2)) as ledger_amount,
        cast(0 as decimal(18, 2)) as ledger_other_period_amount
    from touched
    where {{ 'true' if is_incremental() else 'false' }}
),

breaks as (
    select * from tied_out
    union all
    select * from missing_in_ledger
    union all
    select * from missing_in_operations
    union all
    select * from wrong_period
    union all
    select * from amount_mismatch
),

final as (
    select
        source_doc_id,
        business_date,
        brand_code,
        break_type,
        measure,
        cast(operational_amount as decimal(18, 2)) as operational_amount,
        cast(ledger_amount as decimal(18, 2)) as ledger_amount,
        cast(operational_amount - ledger_amount as decimal(18, 2)) as difference,
        cast(ledger_other_period_amount as decimal(18, 2)) as ledger_other_period_amount
    from breaks
)

select * from final
