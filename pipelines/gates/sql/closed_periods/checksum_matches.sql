-- Closed months whose figures in this mart no longer match the checksum taken at their close.
with

closes as (
    {{ current_closes }}
),

recorded as (
    select
        closes.period,
        sums.row_count,
        sums.checksum
    from closes
    inner join {{ batch }} as sums on closes.event_id = sums.event_id
    where {{ scope }}
)

select
    recorded.period,
    recorded.row_count as rows_at_close,
    figures_now.row_count as rows_now
from recorded,
    lateral ({{ figures }}) as figures_now
where figures_now.checksum <> recorded.checksum
