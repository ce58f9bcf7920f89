from .trainer import NonFiniteLossError, Trainer, TrainerConfig

__all__ = ["NonFiniteLossError", "Trainer", "TrainerConfig"]
