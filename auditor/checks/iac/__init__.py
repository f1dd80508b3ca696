"""checkov custom checks that apply the auditor's own rules to Terraform, plan JSON, ARM and Bicep.

``auditor iac`` passes this folder to checkov with ``--external-checks-dir``. checkov executes every module
here as a top-level module once per framework it runs, so the modules that register checks
(``terraform_checks``, ``arm_checks``) register each check only once, and the bridge (``checkov_results``)
registers nothing. Only these thin modules live where checkov walks: the doors and the record builders
they use are in ``auditor.iac``.
"""
