{# What the books hold, per posting and reconciliation measure. The accounts reconciled and
    their measures are in the chart of accounts (recon_measure: revenue 6001, COGS 6401,
    points liability 2203, receivables 1122); an amount is signed by the account's normal
    balance (credit − debit on a credit account, debit − credit on a debit one). #}
with

reconciled_accounts as (
    select
        account_code,
        normal_balance,
        recon_measure
    from {{ ref('chart_of_accounts') }}
    where recon_measure is not null
),

journal_lines as (
    select * from {{ ref('stg_ledger__journal_lines') }}
    where {{ in_window('posting_date') }}
),

final as (
    select
        journal_lines.journal_id,
        journal_lines.line_no,
        journal_lines.source_doc_id,
        journal_lines.posting_date,
        journal_lines.brand_code,
        reconciled_accounts.recon_measure as measure,
        cast(
            case
                when reconciled_accounts.normal_balance = 'DEBIT'
                    then journal_lines.debit - journal_lines.credit
                else journal_lines.credit - journal_lines.debit
            end
            as decimal(18, 2)
        ) as amount
    from journal_lines
    inner join reconciled_accounts
        on journal_lines.account_code = reconciled_accounts.account_code
)

select * from final
