-- Allocated marketing adds up, month by month, to the expense of campaigns that had
-- attributed revenue that month (allocation is exact in cents); the months the run rebuilt.
with allocated as (
    select
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        sum(allocated_marketing) as allocated
    from {{ ref('int_margin__daily') }}
    where {{ in_window('business_date', 'month') }}
    group by month_start
),

allocatable as (
    select
        expense.month_start,
        sum(expense.actual_expense) as expense
    from {{ ref('int_marketing__campaign_expense') }} as expense
    where
        expense.month_start between {{ month_window_start() }} and {{ month_window_end() }}
        and exists (
            select 1 as attributed from {{ ref('int_margin__order_lines') }} as order_lines
            where
                order_lines.campaign_id = expense.campaign_id
                and cast({{ dbt.date_trunc('month', 'order_lines.business_date') }} as date)
                = expense.month_start
        )
    group by expense.month_start
    having sum(expense.actual_expense) <> 0
)

select coalesce(allocated.month_start, allocatable.month_start) as month_start
from allocated
full outer join allocatable on allocated.month_start = allocatable.month_start
where coalesce(allocated.allocated, 0) <> coalesce(allocatable.expense, 0)
