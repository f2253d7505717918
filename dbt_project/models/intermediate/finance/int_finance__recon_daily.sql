{# Business-finance reconciliation (业财对账) per business date, brand and measure:
    operations (orders of the day) against the ledger (postings of the day). #}
with

operations as (
    select
        business_date,
        brand_code,
        measure,
        sum(amount) as amount
    from {{ ref('int_finance__operational_measures') }}
    where {{ in_window('business_date') }}
    group by business_date, brand_code, measure
),

ledger as (
    select
        posting_date as business_date,
        brand_code,
        measure,
        sum(amount) as amount
    from {{ ref('int_finance__ledger_measures') }}
    where {{ in_window('posting_date') }}
    group by posting_date, brand_code, measure
),

compared as (
    select
        coalesce(operations.business_date, ledger.business_date) as business_date,
        coalesce(operations.brand_code, ledger.brand_code) as brand_code,
        coalesce(operations.measure, ledger.measure) as measure,
        cast(coalesce(operations.amount, 0) as decimal(18, 2)) as operational_amount,
        cast(coalesce(ledger.amount, 0) as decimal(18, 2)) as ledger_amount
    from operations
    full outer join ledger
        on
            operations.business_date = ledger.business_date
            and operations.brand_code = ledger.brand_code
            and operations.measure = ledger.measure
),

final as (
    select
        business_date,
        brand_code,
        measure,
        operational_amount,
        ledger_amount,
        cast(operational_amount - ledger_amount as decimal(18, 2)) as difference,
        {{ recon_tolerance('operational_amount') }} as tolerance,
        case
            when operational_amount = ledger_amount then 'MATCHED'
            when
                abs(operational_amount - ledger_amount)
                <= {{ recon_tolerance('operational_amount') }} then 'WITHIN_TOLERANCE'
            else 'BREAK'
        end as status
    from compared
)

select * from final
