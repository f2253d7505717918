-- The floor: every published mart of yecai computed by one hand-written DuckDB script, in
-- one process, from the same raw lake (lake/raw, as ingestion wrote it) and seeds, for all
-- history at once. No orchestration, no incremental bookkeeping, no tests: the least work
-- DuckDB needs for the same tables. `make bench` runs it (bench/floor.py sets the variables
-- `lake` and `seeds`) and checks that each table equals the published mart row for row.
--
-- Written the way a DuckDB user would, not copied from the dbt models: ASOF joins for the
-- as-of costs, one recursive CTE for identity, ordered aggregates, one pass per mart.

create schema floor;

-- ---------------------------------------------------------------- inputs ----------------
create view floor.sales as
select * replace (cast(line_no as integer) as line_no)
from read_parquet(getvariable('lake') || '/raw/sales/*/*.parquet', hive_partitioning = true);

create view floor.inventory as
select * from read_parquet(getvariable('lake') || '/raw/inventory/*/*.parquet', hive_partitioning = true);

create view floor.consultations as
select * from read_parquet(getvariable('lake') || '/raw/consultations/*/*.parquet', hive_partitioning = true);

create view floor.ledger as
select * from read_parquet(getvariable('lake') || '/raw/ledger/*/*.parquet', hive_partitioning = true);

create table floor.products as
select sku, category, cast(is_rx as boolean) as is_rx, cast(is_traceable as boolean) as is_traceable
from read_csv(getvariable('seeds') || '/products.csv', all_varchar = true);

create table floor.stores as
select store_id, cast(license_valid_from as date) as license_valid_from,
    cast(license_valid_to as date) as license_valid_to
from read_csv(getvariable('seeds') || '/stores.csv', all_varchar = true);

create table floor.budgets as
select campaign_id, brand_code, period, campaign_name,
    cast(budget_amount as decimal(18, 2)) as budget_amount
from read_csv(getvariable('seeds') || '/marketing_budgets.csv', all_varchar = true);

-- ---------------------------------------------------------------- unit costs ------------
create table floor.location_costs as
select snapshot_date, location_id, sku, max(unit_cost) as unit_cost, sum(on_hand_qty) as on_hand_qty
from floor.inventory
group by all;

create table floor.group_costs as
select snapshot_date, sku, first(unit_cost order by on_hand_qty desc, location_id) as unit_cost
from floor.location_costs
group by all;

-- ---------------------------------------------------------------- identity --------------
-- A record (order, consultation) and the identifier tokens it shows.
create table floor.records as
select 'sales' as record_source, order_id as record_id, min(business_date) as business_date,
    min(order_ts) as seen_ts, min(customer_phone_token) as phone_token,
    min(customer_email_token) as email_token, min(customer_id_number_token) as id_number_token,
    min(member_id) as member_id, min(customer_phone_masked) as phone_masked,
    min(customer_email_masked) as email_masked, min(customer_name_masked) as name_masked
from floor.sales
group by order_id
union all
select 'consultations', consultation_id, min(business_date), min(consult_ts),
    min(patient_phone_token), null, min(patient_id_number_token), min(member_id),
    min(patient_phone_masked), null, min(patient_name_masked)
from floor.consultations
group by consultation_id;

create table floor.record_identifiers as
select record_source, record_id, business_date, identifier
from floor.records,
    unnest([
        'phone:' || phone_token, 'email:' || email_token, 'id:' || id_number_token,
        'member:' || member_id
    ]) as t(identifier)
where identifier is not null;

-- Identifiers shown on one record are one person: link each to the record's first, then
-- take every identifier's reachable set (components are people: a handful each).
create table floor.identifier_links as
with firsts as (
    select record_source, record_id, min(identifier) as hub
    from floor.record_identifiers group by all
)
select distinct r.identifier as a, f.hub as b
from floor.record_identifiers as r join firsts as f using (record_source, record_id)
where r.identifier <> f.hub;

create table floor.identifier_keys as
with recursive
edges as (
    select a, b from floor.identifier_links
    union
    select b, a from floor.identifier_links
),
reach(node, other) as (
    select distinct identifier, identifier from floor.record_identifiers
    union
    select reach.node, edges.b from reach join edges on reach.other = edges.a
),
first_seen as (
    select identifier, min(business_date) as first_seen_date
    from floor.record_identifiers group by identifier
),
anchors as (
    select reach.node as identifier, min(cast(f.first_seen_date as varchar) || '|' || reach.other)
        as anchor
    from reach join first_seen as f on f.identifier = reach.other
    group by reach.node
)
select identifier, 'C' || upper(substr(md5(anchor), 1, 16)) as customer_key
from anchors;

create table floor.record_keys as
select r.record_source, r.record_id, min(k.customer_key) as customer_key
from floor.record_identifiers as r join floor.identifier_keys as k using (identifier)
group by all;

-- ---------------------------------------------------------------- margin ----------------
create table floor.fct_sales_margin as
with
costed as (
    select s.*, lc.unit_cost as store_unit_cost, gc.unit_cost as group_unit_cost
    from floor.sales as s
    asof left join floor.location_costs as lc
        on s.store_id = lc.location_id and s.sku = lc.sku and s.business_date >= lc.snapshot_date
    asof left join floor.group_costs as gc
        on s.sku = gc.sku and s.business_date >= gc.snapshot_date
),
signed as (
    select c.*, case when c.line_type = 'RETURN' then -1 else 1 end as sign, p.category,
        k.customer_key, coalesce(c.store_unit_cost, c.group_unit_cost) as resolved_unit_cost,
        case when c.store_unit_cost is not null then 'STORE_SNAPSHOT'
            when c.group_unit_cost is not null then 'GROUP_LATEST' else 'MISSING' end
            as cost_source
    from costed as c
    left join floor.products as p on c.sku = p.sku
    left join floor.record_keys as k on k.record_source = 'sales' and k.record_id = c.order_id
),
amounts as (
    select order_id, line_no, business_date, order_ts, brand_code, channel_code, store_id,
        customer_key, sku, category, line_type, payment_status, campaign_id, prescription_id,
        trace_code, cost_source,
        cast(sign * quantity as integer) as quantity,
        unit_price,
        cast(sign * quantity * unit_price as decimal(18, 2)) as gross_sales,
        cast(sign * discount_amount as decimal(18, 2)) as discount_amount,
        cast(sign * cast(points_redeemed * 0.01 as decimal(18, 2)) as decimal(18, 2))
            as points_redeemed_value,
        cast(sign * cast(points_earned * 0.01 as decimal(18, 2)) as decimal(18, 2))
            as points_earned_value,
        cast(sign * net_amount as decimal(18, 2)) as net_amount,
        cast(sign * tax_amount as decimal(18, 2)) as tax_amount,
        cast(resolved_unit_cost as decimal(18, 4)) as unit_cost,
        cast(round(sign * quantity * coalesce(resolved_unit_cost, 0), 2) as decimal(18, 2)) as cogs
    from signed
)
select order_id, line_no, business_date, order_ts, brand_code, channel_code, store_id,
    customer_key, sku, category, line_type, quantity, unit_price, gross_sales, discount_amount,
    points_redeemed_value, points_earned_value,
    cast(gross_sales - discount_amount - points_earned_value as decimal(18, 2))
        as recognized_revenue,
    unit_cost, cogs,
    cast(gross_sales - discount_amount - points_earned_value - cogs as decimal(18, 2))
        as gross_margin,
    cost_source, campaign_id, prescription_id, trace_code, payment_status, net_amount, tax_amount
from amounts;

create table floor.campaign_expense as
select source_doc_id as campaign_id, cast(date_trunc('month', posting_date) as date) as month_start,
    min(brand_code) as brand_code, cast(sum(debit - credit) as decimal(18, 2)) as actual_expense
from floor.ledger
where account_code = '6601' and source_doc_id is not null
group by all;

-- A campaign-month's expense over its lines by revenue share, exact in cents: floors, and
-- the remainder to the line with the most revenue.
create table floor.allocations as
with
shares as (
    select m.order_id, m.line_no, m.campaign_id, e.month_start,
        cast(m.recognized_revenue * 100 as bigint) as revenue_cents,
        cast(e.actual_expense * 100 as bigint) as expense_cents
    from floor.fct_sales_margin as m
    join floor.campaign_expense as e
        on m.campaign_id = e.campaign_id
        and cast(date_trunc('month', m.business_date) as date) = e.month_start
),
floored as (
    select *,
        sum(revenue_cents) over campaign_month as campaign_revenue_cents,
        row_number() over (campaign_month order by revenue_cents desc, order_id, line_no)
            as share_rank,
        case when sum(revenue_cents) over campaign_month > 0
            then (expense_cents * revenue_cents) // sum(revenue_cents) over campaign_month
            else 0 end as floor_cents
    from shares
    window campaign_month as (partition by campaign_id, month_start)
)
select order_id, line_no,
    floor_cents + case when share_rank = 1 and campaign_revenue_cents > 0
        then expense_cents - sum(floor_cents) over (partition by campaign_id, month_start)
        else 0 end as allocated_cents
from floored;

create table floor.fct_margin_daily as
with daily as (
    select business_date, brand_code, channel_code, store_id, category,
        cast(sum(quantity) as bigint) as units,
        cast(sum(gross_sales) as decimal(18, 2)) as gross_sales,
        cast(sum(discount_amount) as decimal(18, 2)) as discount_amount,
        cast(sum(points_redeemed_value) as decimal(18, 2)) as points_redeemed_value,
        cast(sum(points_earned_value) as decimal(18, 2)) as points_earned_value,
        cast(sum(recognized_revenue) as decimal(18, 2)) as recognized_revenue,
        cast(sum(cogs) as decimal(18, 2)) as cogs,
        cast(sum(gross_margin) as decimal(18, 2)) as gross_margin,
        cast(cast(sum(coalesce(a.allocated_cents, 0)) as decimal(20, 0)) * 0.01 as decimal(18, 2))
            as allocated_marketing,
        count(*) as order_lines
    from floor.fct_sales_margin as m left join floor.allocations as a using (order_id, line_no)
    group by all
)
select business_date, brand_code, channel_code, store_id, category, units, gross_sales,
    discount_amount, points_redeemed_value, points_earned_value, recognized_revenue, cogs,
    gross_margin,
    cast(gross_margin / nullif(recognized_revenue, 0) as decimal(9, 4)) as gross_margin_pct,
    allocated_marketing,
    cast(gross_margin - allocated_marketing as decimal(18, 2)) as contribution_margin,
    order_lines
from daily;

-- ---------------------------------------------------------------- reconciliation --------
create table floor.operational_measures as
with per_order as (
    select order_id as source_doc_id, business_date, brand_code,
        sum(recognized_revenue) as revenue, sum(cogs) as cogs,
        sum(points_earned_value - points_redeemed_value) as points_liability,
        sum(net_amount + tax_amount) as receivables
    from floor.fct_sales_margin
    group by all
)
unpivot per_order on
    revenue as 'REVENUE', cogs as 'COGS', points_liability as 'POINTS_LIABILITY',
    receivables as 'RECEIVABLES'
into name measure value amount;

create table floor.ledger_measures as
select source_doc_id, posting_date, brand_code,
    case account_code when '6001' then 'REVENUE' when '6401' then 'COGS'
        when '2203' then 'POINTS_LIABILITY' when '1122' then 'RECEIVABLES' end as measure,
    cast(case when account_code in ('6401', '1122') then debit - credit else credit - debit end
        as decimal(18, 2)) as amount
from floor.ledger
where account_code in ('6001', '6401', '2203', '1122');

create table floor.recon_sales_ledger as
with
operations as (
    select business_date, brand_code, measure, sum(amount) as amount
    from floor.operational_measures group by all
),
ledger as (
    select posting_date as business_date, brand_code, measure, sum(amount) as amount
    from floor.ledger_measures group by all
),
compared as (
    select business_date, brand_code, measure,
        cast(coalesce(o.amount, 0) as decimal(18, 2)) as operational_amount,
        cast(coalesce(l.amount, 0) as decimal(18, 2)) as ledger_amount
    from operations as o full join ledger as l using (business_date, brand_code, measure)
)
select business_date, brand_code, measure, operational_amount, ledger_amount,
    cast(operational_amount - ledger_amount as decimal(18, 2)) as difference,
    cast(greatest(0.10, abs(operational_amount) * 0.0001) as decimal(18, 2)) as tolerance,
    case when operational_amount = ledger_amount then 'MATCHED'
        when abs(operational_amount - ledger_amount)
            <= cast(greatest(0.10, abs(operational_amount) * 0.0001) as decimal(18, 2))
            then 'WITHIN_TOLERANCE'
        else 'BREAK' end as status
from compared;

create table floor.recon_breaks as
with
posted as (
    select source_doc_id, min(posting_date) as first_posting_date
    from floor.ledger_measures group by all
),
ledger_by_measure as (
    select l.source_doc_id, l.measure, sum(l.amount) as ledger_total,
        sum(case when date_trunc('month', l.posting_date) = date_trunc('month', o.business_date)
            then l.amount else 0 end) as ledger_same_period
    from floor.ledger_measures as l
    join floor.operational_measures as o using (source_doc_id, measure)
    group by all
),
matched as (
    select o.source_doc_id, o.business_date, o.brand_code, o.measure,
        o.amount as operational_amount,
        coalesce(l.ledger_total, 0) as ledger_total,
        coalesce(l.ledger_same_period, 0) as ledger_same_period
    from floor.operational_measures as o
    semi join posted using (source_doc_id)
    left join ledger_by_measure as l using (source_doc_id, measure)
),
breaks as (
    select source_doc_id, business_date, brand_code, 'MISSING_IN_LEDGER' as break_type, measure,
        amount as operational_amount, 0 as ledger_amount, 0 as ledger_other_period_amount
    from floor.operational_measures
    anti join posted using (source_doc_id)
    where amount <> 0
    union all
    select source_doc_id, min(posting_date), min(brand_code), 'MISSING_IN_OPERATIONS', measure,
        0, sum(amount), 0
    from floor.ledger_measures
    where source_doc_id not in (select source_doc_id from floor.operational_measures)
    group by source_doc_id, measure
    having sum(amount) <> 0
    union all
    select source_doc_id, business_date, brand_code, 'WRONG_PERIOD', measure,
        operational_amount, ledger_same_period, ledger_total - ledger_same_period
    from matched where ledger_total <> ledger_same_period
    union all
    select source_doc_id, business_date, brand_code, 'AMOUNT_MISMATCH', measure,
        operational_amount, ledger_total, 0
    from matched
    where ledger_total = ledger_same_period and operational_amount <> ledger_total
)
select source_doc_id, business_date, brand_code, break_type, measure,
    cast(operational_amount as decimal(18, 2)) as operational_amount,
    cast(ledger_amount as decimal(18, 2)) as ledger_amount,
    cast(operational_amount - ledger_amount as decimal(18, 2)) as difference,
    cast(ledger_other_period_amount as decimal(18, 2)) as ledger_other_period_amount
from breaks;

-- ---------------------------------------------------------------- loyalty points --------
create table floor.points_movements as
with points as (
    select customer_key, brand_code, business_date, order_ts, order_id, line_no,
        cast(points_earned_value * 100 as bigint) as earned,
        cast(points_redeemed_value * 100 as bigint) as redeemed
    from floor.fct_sales_margin
    where customer_key is not null and (points_earned_value <> 0 or points_redeemed_value <> 0)
)
select customer_key, brand_code, business_date, order_ts, order_id, line_no,
    greatest(earned, 0) + greatest(-redeemed, 0) as credit_points,
    greatest(redeemed, 0) + greatest(-earned, 0) as debit_points
from points;

-- FIFO per customer: credits and debits as ranges on the customer's running totals; a
-- debit takes from every credit range it overlaps, and beyond all credits from OPENING.
create table floor.fifo_allocations as
with
ranges as (
    select *,
        sum(credit_points) over running - credit_points as credit_start,
        sum(credit_points) over running as credit_end,
        sum(debit_points) over running - debit_points as debit_start,
        sum(debit_points) over running as debit_end
    from floor.points_movements
    window running as (partition by customer_key order by order_ts, order_id, line_no
        rows between unbounded preceding and current row)
),
credits as (select * from ranges where credit_points > 0),
debits as (select * from ranges where debit_points > 0),
earned as (select customer_key, max(credit_end) as earned_points from credits group by all)
select d.customer_key, d.order_id, d.line_no, d.business_date as debit_date,
    d.brand_code as redeemed_brand_code, c.brand_code as earned_brand_code,
    c.business_date as credit_date,
    cast(least(d.debit_end, c.credit_end) - greatest(d.debit_start, c.credit_start) as bigint)
        as points
from debits as d
join credits as c
    on d.customer_key = c.customer_key
    and c.credit_start < d.debit_end and d.debit_start < c.credit_end
union all
select d.customer_key, d.order_id, d.line_no, d.business_date, d.brand_code, 'OPENING', null,
    cast(d.debit_end - greatest(d.debit_start, coalesce(e.earned_points, 0)) as bigint)
from debits as d left join earned as e using (customer_key)
where d.debit_end > coalesce(e.earned_points, 0);

create table floor.points_liability as
with
days as (
    select business_date, brand_code, sum(credit_points) as points_earned,
        sum(debit_points) as points_redeemed
    from floor.points_movements group by all
),
consumed as (
    select debit_date as business_date, earned_brand_code as brand_code,
        sum(points) as points_consumed
    from floor.fifo_allocations where earned_brand_code <> 'OPENING' group by all
),
daily as (
    select business_date, brand_code, coalesce(points_earned, 0) as points_earned,
        coalesce(points_redeemed, 0) as points_redeemed,
        coalesce(points_earned, 0) - coalesce(points_consumed, 0) as net_change
    from days full join consumed using (business_date, brand_code)
)
select business_date, brand_code, cast(points_earned as bigint) as points_earned,
    cast(points_redeemed as bigint) as points_redeemed,
    cast(sum(net_change) over (partition by brand_code order by business_date
        rows between unbounded preceding and current row) as bigint) as points_outstanding,
    cast(sum(net_change) over (partition by brand_code order by business_date
        rows between unbounded preceding and current row) * 0.01 as decimal(18, 2))
        as liability_value
from daily;

create table floor.points_interbrand_settlement as
select substring(cast(debit_date as varchar), 1, 7) as period, earned_brand_code,
    redeemed_brand_code, cast(sum(points) as bigint) as points,
    cast(sum(points) * 0.01 as decimal(18, 2)) as settlement_value,
    earned_brand_code <> redeemed_brand_code as is_interbrand
from floor.fifo_allocations
group by all;

-- ---------------------------------------------------------------- marketing -------------
create table floor.marketing_budget_vs_actual as
with
attributed as (
    select campaign_id, cast(date_trunc('month', business_date) as date) as month_start,
        cast(sum(recognized_revenue) as decimal(18, 2)) as attributed_revenue,
        cast(sum(gross_margin) as decimal(18, 2)) as attributed_gross_margin,
        count(*) as attributed_lines
    from floor.fct_sales_margin where campaign_id is not null group by all
),
joined as (
    select b.campaign_id, b.period, b.brand_code, b.campaign_name, b.budget_amount,
        coalesce(e.actual_expense, 0) as actual_expense,
        coalesce(a.attributed_revenue, 0) as attributed_revenue,
        coalesce(a.attributed_gross_margin, 0) as attributed_gross_margin,
        coalesce(a.attributed_lines, 0) as attributed_lines
    from floor.budgets as b
    left join floor.campaign_expense as e
        on b.campaign_id = e.campaign_id and cast(b.period || '-01' as date) = e.month_start
    left join attributed as a
        on b.campaign_id = a.campaign_id and cast(b.period || '-01' as date) = a.month_start
    where e.campaign_id is not null or a.campaign_id is not null
)
select campaign_id, period, brand_code, campaign_name,
    cast(budget_amount as decimal(18, 2)) as budget_amount,
    cast(actual_expense as decimal(18, 2)) as actual_expense,
    cast(attributed_revenue as decimal(18, 2)) as attributed_revenue,
    cast(attributed_gross_margin as decimal(18, 2)) as attributed_gross_margin,
    cast((attributed_gross_margin - actual_expense) / nullif(actual_expense, 0)
        as decimal(12, 4)) as roi,
    actual_expense > budget_amount as is_over_budget,
    cast(attributed_lines as bigint) as attributed_lines
from joined;

-- ---------------------------------------------------------------- compliance ------------
create table floor.compliance_rx_violations as
with
items as (
    select prescription_id, rx_sku as sku, min(consult_ts) as issued_ts,
        min(rx_valid_until) as rx_valid_until, sum(rx_max_qty) as rx_max_qty
    from floor.consultations where prescription_id is not null group by all
),
prescriptions as (select prescription_id, min(issued_ts) as issued_ts from items group by all),
lines as (
    select m.*,
        sum(quantity) over (partition by prescription_id, m.sku
            order by order_ts, order_id, line_no
            rows between unbounded preceding and current row) as units_dispensed
    from floor.fct_sales_margin as m semi join floor.products as p on m.sku = p.sku and p.is_rx
    where line_type = 'SALE'
),
checked as (
    select l.order_id, l.line_no, l.business_date, l.store_id, l.sku, l.prescription_id,
        l.quantity,
        p.prescription_id is not null and p.issued_ts <= l.order_ts as prescription_known,
        i.sku is not null as sku_prescribed, i.rx_valid_until, i.rx_max_qty,
        l.units_dispensed,
        s.license_valid_from is not null
            and l.business_date between s.license_valid_from and s.license_valid_to
            as license_valid
    from lines as l
    left join prescriptions as p on l.prescription_id = p.prescription_id
    left join items as i on l.prescription_id = i.prescription_id and l.sku = i.sku
    left join floor.stores as s on l.store_id = s.store_id
)
select order_id, line_no, business_date, store_id, sku, prescription_id, reason,
    cast(quantity as integer) as quantity, rx_valid_until, cast(rx_max_qty as integer) as rx_max_qty
from checked,
    unnest([
        case when prescription_id is null then 'NO_PRESCRIPTION' end,
        case when prescription_id is not null and not prescription_known
            then 'UNKNOWN_PRESCRIPTION' end,
        case when prescription_known and not sku_prescribed then 'SKU_NOT_PRESCRIBED' end,
        case when prescription_known and sku_prescribed and business_date > rx_valid_until
            then 'PRESCRIPTION_EXPIRED' end,
        case when prescription_known and sku_prescribed and units_dispensed > rx_max_qty
            then 'QUANTITY_EXCEEDED' end,
        case when not license_valid then 'PHARMACY_LICENSE_INVALID' end
    ]) as t(reason)
where reason is not null;

create table floor.compliance_traceability as
with
lines as (
    select m.* from floor.fct_sales_margin as m
    semi join floor.products as p on m.sku = p.sku and p.is_traceable
),
out_before as (
    select order_id, line_no,
        coalesce(sum(case when line_type = 'SALE' then 1 else -1 end) over (
            partition by trace_code order by order_ts, order_id, line_no
            rows between unbounded preceding and 1 preceding), 0) as units_out_before
    from floor.fct_sales_margin where trace_code is not null
),
batches as (select batch_no, min(expiry_date) as expiry_date from floor.inventory group by all),
coded as (
    select *, split_part(trace_code, '-', 1) || '-' || split_part(trace_code, '-', 2) as batch_no
    from lines where trace_code is not null and line_type = 'SALE'
)
select c.trace_code, c.order_id, c.line_no, c.sku, 'DUPLICATE_CODE' as issue, c.business_date,
    c.store_id, c.batch_no, cast(null as date) as expiry_date
from coded as c join out_before as o using (order_id, line_no)
where o.units_out_before >= 1
union all
select trace_code, order_id, line_no, sku, 'MISSING_CODE', business_date, store_id, null, null
from lines where trace_code is null and line_type = 'SALE'
union all
select c.trace_code, c.order_id, c.line_no, c.sku, 'EXPIRED_BATCH', c.business_date, c.store_id,
    c.batch_no, b.expiry_date
from coded as c join batches as b using (batch_no)
where b.expiry_date < c.business_date;

-- ---------------------------------------------------------------- customers -------------
create table floor.customer_profile as
with
lines as (select * from floor.fct_sales_margin where customer_key is not null),
as_of as (select max(business_date) as as_of_date from floor.fct_sales_margin),
contacts as (
    select k.customer_key, r.*
    from floor.records as r join floor.record_keys as k using (record_source, record_id)
),
latest_contact as (
    select customer_key,
        arg_max(phone_masked, seen_ts) filter (where phone_masked is not null) as phone_masked,
        arg_max(email_masked, seen_ts) filter (where email_masked is not null) as email_masked,
        arg_max(name_masked, seen_ts) filter (where name_masked is not null) as name_masked
    from contacts group by all
),
purchases as (
    select customer_key,
        min(business_date) filter (where line_type = 'SALE') as first_purchase_date,
        max(business_date) filter (where line_type = 'SALE') as last_purchase_date,
        count(distinct order_id) filter (where line_type = 'SALE') as order_count,
        cast(sum(recognized_revenue) as decimal(18, 2)) as recognized_revenue,
        cast(sum(gross_margin) as decimal(18, 2)) as gross_margin,
        count(distinct order_id) filter (
            where line_type = 'SALE' and business_date > as_of_date - interval 365 day)
            as frequency,
        cast(sum(case when business_date > as_of_date - interval 365 day
            then recognized_revenue else 0 end) as decimal(18, 2)) as monetary
    from lines, as_of group by customer_key
),
brands as (
    select customer_key, string_agg(distinct brand_code, ',' order by brand_code) as brands,
        count(distinct brand_code) as brand_count
    from lines group by all
),
channels as (
    select customer_key, string_agg(distinct channel_code, ',' order by channel_code) as channels
    from lines group by all
),
categories as (
    select customer_key, first(category order by revenue desc, category) as category
    from (
        select customer_key, category, sum(recognized_revenue) as revenue from lines group by all
    )
    group by all
),
points as (
    select customer_key, sum(credit_points) as points_earned, sum(debit_points) as points_redeemed
    from floor.points_movements group by all
),
consultations as (
    select customer_key, count(*) as consultation_count, max(business_date) as last_consultation_date
    from contacts where record_source = 'consultations' group by all
),
scored as (
    select p.*, datediff('day', p.last_purchase_date, as_of_date) as recency_days, as_of_date,
        case when frequency > 0 then ntile(5) over (partition by frequency > 0
            order by last_purchase_date, customer_key) end as r_score,
        case when frequency > 0 then ntile(5) over (partition by frequency > 0
            order by frequency, customer_key) end as f_score,
        case when frequency > 0 then ntile(5) over (partition by frequency > 0
            order by monetary, customer_key) end as m_score
    from purchases as p, as_of
)
select c.customer_key, lc.phone_masked, lc.email_masked, lc.name_masked, b.brands, ch.channels,
    s.first_purchase_date, s.last_purchase_date,
    cast(coalesce(s.order_count, 0) as bigint) as order_count,
    cast(coalesce(s.recognized_revenue, 0) as decimal(18, 2)) as recognized_revenue,
    cast(coalesce(s.gross_margin, 0) as decimal(18, 2)) as gross_margin,
    cast(s.recency_days as integer) as recency_days,
    cast(coalesce(s.frequency, 0) as bigint) as frequency,
    cast(coalesce(s.monetary, 0) as decimal(18, 2)) as monetary,
    cast(s.r_score as integer) as r_score, cast(s.f_score as integer) as f_score,
    cast(s.m_score as integer) as m_score,
    case when s.customer_key is null then 'NO_PURCHASES'
        when s.frequency = 0 then 'LAPSED'
        when s.r_score >= 4 and s.f_score >= 4 and s.m_score >= 4 then 'CHAMPIONS'
        when s.first_purchase_date > s.as_of_date - interval 30 day then 'NEW'
        when s.f_score >= 4 and s.r_score >= 3 then 'LOYAL'
        when s.r_score <= 2 and s.f_score >= 3 then 'AT_RISK'
        when s.r_score <= 2 and s.f_score <= 2 then 'HIBERNATING'
        else 'POTENTIAL' end as rfm_segment,
    cast(coalesce(p.points_earned, 0) as bigint) as points_earned,
    cast(coalesce(p.points_redeemed, 0) as bigint) as points_redeemed,
    cast(coalesce(p.points_earned, 0) - coalesce(p.points_redeemed, 0) as bigint) as points_balance,
    cast(coalesce(co.consultation_count, 0) as bigint) as consultation_count,
    co.last_consultation_date,
    cat.category as preferred_category,
    coalesce(b.brand_count, 0) > 1 as is_cross_brand
from (select distinct customer_key from floor.record_keys) as c
left join scored as s using (customer_key)
left join latest_contact as lc using (customer_key)
left join brands as b using (customer_key)
left join channels as ch using (customer_key)
left join categories as cat using (customer_key)
left join points as p using (customer_key)
left join consultations as co using (customer_key);

-- A single build over all history retires no customer key: merges need two runs.
create table floor.customer_key_merges as
select cast(null as varchar) as retired_customer_key, cast(null as varchar) as survivor_customer_key,
    cast(null as date) as merged_on, cast(null as bigint) as identifiers_moved
where false;
