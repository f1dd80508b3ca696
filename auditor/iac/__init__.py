"""``auditor iac``: the baseline's controls judged over Terraform, Terraform plan, ARM and Bicep through checkov."""
