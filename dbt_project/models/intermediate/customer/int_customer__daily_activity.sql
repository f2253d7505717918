{#
    What each customer did on each business date (客户日活动), the compact state the customer
    profile is built from: one row per customer, date, brand, channel and category of
    their order lines, and one per customer and date of their records (contacts,
    consultations; brand, channel and category empty). A run rebuilds its window's dates
    from the window's lines and records (its first build reads every line and record
    already built, so adding it to a warehouse with history needs no backfill); a customer merged into another moves to the
    survivor (post-hook; in the rows of closed months too, closed.customer_daily_activity),
    so a customer may hold two rows of one group for a while: every reader sums them. A
    split customer's rows of other dates are built again from the re-keyed lines and
    records (post-hook); closed months keep the rows they were closed with, and the
    split reaches them as adjustment rows, as late data does.
    customer_daily_activity publishes its figures, closed months as closed.
    - sale_orders counts each sale order once, on the group of its first sale line, so
      it adds up over any grouping;
    - the contact columns are the latest non-empty masked form of the day, with the time
      it was seen.
#}
{{ config(post_hook=[
    "{% if is_incremental() %}{{ rekey_merged_customers(this) }}{% endif %}",
    "{% if is_incremental() %}{{ rekey_merged_customers(source('closed', 'customer_daily_activity')) }}{% endif %}",
    "{% if is_incremental() and splits_logged_in_window() %}{{ rebuild_split_customers_activity(this) }}{% endif %}",
]) }}
-- depends_on: {{ ref('int_identity__key_merges') }}
-- depends_on: {{ ref('int_identity__key_splits') }}

{{ customer_daily_activity_rows(
    activity_in_window if is_incremental() else activity_everything) }}
