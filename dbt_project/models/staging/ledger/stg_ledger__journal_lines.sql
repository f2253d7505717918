with

source as (
    select * from {{ lake_source('ledger', 'lake_raw') }}
),

renamed as (
    select
        journal_id,
        line_no,
        posting_date,
        business_date,
        account_code,
        brand_code,
        cost_center,
        debit,
        credit,
        source_system,
        source_doc_id,
        description,
        _source_file as source_file,
        _source_row_number as source_row_number
    from source
)

select * from renamed
