// replaced by the configuration model
