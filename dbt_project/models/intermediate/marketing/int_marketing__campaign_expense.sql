{# Actual marketing expense (销售费用 6601) per campaign and month, from the ledger. #}
with

journal_lines as (
    select * from {{ ref('stg_ledger__journal_lines') }}
    where account_code = '6601' and source_doc_id is not null
),

final as (
    select
        source_doc_id as campaign_id,
        cast({{ dbt.date_trunc('month', 'posting_date') }} as date) as month_start,
        min(brand_code) as brand_code,
        cast(sum(debit - credit) as decimal(18, 2)) as actual_expense
    from journal_lines
    group by source_doc_id, cast({{ dbt.date_trunc('month', 'posting_date') }} as date)
)

select * from final
