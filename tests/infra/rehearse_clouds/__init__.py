"""Plans of the shapes the GCP and Azure builders produce (the contract of
``glacier.infra.builders``), written by hand so the rehearsal on those clouds is tested
before (and independently of) the builders."""
