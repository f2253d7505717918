{# The chart of accounts (会计科目) the ledger posts to, from the reference data. #}
select
    account_code,
    account_name,
    account_name_zh,
    account_type,
    normal_balance,
    recon_measure
from {{ ref('chart_of_accounts') }}
