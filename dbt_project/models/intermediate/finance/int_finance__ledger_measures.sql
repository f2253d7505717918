{# What the books hold, per posting and reconciliation measure: revenue 6001 (credit −
    debit), COGS 6401 (debit − credit), points liability 2203 (credit − debit),
    receivables 1122 (debit − credit). #}
with

journal_lines as (
    select * from {{ ref('stg_ledger__journal_lines') }}
    where account_code in ('6001', '6401', '2203', '1122') and {{ in_window('posting_date') }}
),

final as (
    select
        journal_id,
        line_no,
        source_doc_id,
        posting_date,
        brand_code,
        case account_code
            when '6001' then 'REVENUE'
            when '6401' then 'COGS'
            when '2203' then 'POINTS_LIABILITY'
            when '1122' then 'RECEIVABLES'
        end as measure,
        cast(
            case when account_code in ('6401', '1122') then debit - credit else credit - debit end
            as decimal(18, 2)
        ) as amount
    from journal_lines
)

select * from final
