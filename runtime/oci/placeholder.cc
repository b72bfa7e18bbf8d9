// replaced by the OCI spec model
