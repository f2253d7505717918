"""The transform engine: the dbt project as files and commands (no Dagster).

- :mod:`pipelines.transform.dbt_project`: where the project is, its manifest, dbt as a
  command, and the dbt docs published for people;
- :mod:`pipelines.transform.manifest`: what the manifest says (relation names, marts,
  their tests), read by the gates so no relation name is typed twice;
- :mod:`pipelines.transform.dbt_sources`: the dbt sources, generated from the contracts.
"""
