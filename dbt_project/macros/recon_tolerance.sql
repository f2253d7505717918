{#- The reconciliation tolerance of an amount: the greater of a fixed amount and a share
    of it (vars recon_tolerance_cny, recon_tolerance_share in dbt_project.yml). -#}
{% macro recon_tolerance(amount) -%}
    cast(greatest(
        {{ var('recon_tolerance_cny') }},
        abs({{ amount }}) * {{ var('recon_tolerance_share') }}
    ) as decimal(18, 2))
{%- endmacro %}
