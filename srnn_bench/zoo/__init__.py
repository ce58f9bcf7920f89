"""Published trained networks: read them safely, convert them to srnn_bench run directories, verify them."""
