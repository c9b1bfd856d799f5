from provisioner.program import main

main()
