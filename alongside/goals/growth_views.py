"""(placeholder until this part is built)"""

urlpatterns = []
